/*
 * balance: POST /v1/balance-inquiries, a card's wallets and balances.
 *
 * balance.lua checks the card and its PIN as a swipe does (a wrong PIN
 * counts towards the lock) and reads the wallets; nothing is produced, so
 * the answer is immediate and needs no broker.
 *
 * Loop thread only.
 */
#ifndef GATEWAY_BALANCE_H
#define GATEWAY_BALANCE_H

#include "request.h"

#include "common/redis.h"

void balance_setup(redis_client *redis, const char *pin_pepper);

/* Goes on with an inquiry whose body is parsed; answers r. */
void balance_start(request *r);

#endif
