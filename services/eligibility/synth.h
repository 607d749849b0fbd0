/*
 * synth: a synthetic district for demos and measurements,
 * `onecard-eligibility synth --persons N --providers M --seed S --out DIR`.
 * Writes DIR/persons.csv and DIR/providers.csv in the formats of import.h:
 * valid national ids (Guangdong area codes 44xxxx, real birth dates,
 * correct check characters, unique for up to 10 million persons), Chinese names, the categories,
 * grades, care levels, households and ages of a plausible registered population, the ten
 * subdistricts of Luohu and their communities, and providers designated
 * for the items of their category. The same seed writes the same files.
 */
#ifndef ELIG_SYNTH_H
#define ELIG_SYNTH_H

#include "registry.h"

/* The handler of commands.h's table; offline (r is NULL: it needs no
 * store). Returns the exit code: 0, 1 when an argument is refused, 3 when
 * a file cannot be written. */
int synth_command(registry *r, int argc, char **argv);

#endif
