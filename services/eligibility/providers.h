/*
 * providers: the operator commands on a provider (a service point where a
 * card is swiped for the catalogue items it is designated for).
 *
 *   provider add ID --name N --district D --category C --items A,B
 *          --actor A
 *   provider designate ID --items A,B --actor A     (adds designations)
 *   provider suspend|reinstate ID --reason R --actor A   (the rating
 *          service's review runs suspend: services/rating/review.h)
 *
 * The handler of commands.h's table for "provider": argv[0] is the
 * subcommand. Returns the exit code (0, 1 refused, 3 failed) or
 * COMMANDS_USAGE. Blocking; one thread.
 */
#ifndef ELIG_PROVIDERS_H
#define ELIG_PROVIDERS_H

#include "registry.h"

int providers_command(registry *r, int argc, char **argv);

#endif
