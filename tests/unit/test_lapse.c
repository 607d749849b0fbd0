/*
 * test_lapse: what a lapse takes (services/ledger/lapse.h), from tables:
 * the FIFO amount (what a wallet holds beyond the credit not ended, never
 * more than the journal's cap nor below zero), the split of a lapse over
 * the funds to the fen, and a CreditReturned's lines (wallet -> fund per
 * share, the fund year of its period).
 */
#include "check.h"
#include "journal.h"
#include "lapse.h"
#include "topup.pb-c.h"

#include <string.h>

int main(void)
{
    /* the FIFO amount: spending drew the oldest credit first, so what
     * lapses is the balance beyond the credit not ended */
    static const struct {
        int64_t balance, keep, cap, want;
        const char *what;
    } take[] = {
        {17499, 10000, -1, 7499, "January part spent, February arrived: January's rest"},
        {17499, 10000, 7499, 7499, "the journal agrees"},
        {15499, 10000, 7499, 5499, "a swipe approved, not journalled yet: Redis decides"},
        {17499, 10000, 5000, 5000, "never more than the journal's unspent"},
        {9000, 10000, -1, 0, "February's credit part spent: nothing of January left"},
        {0, 0, -1, 0, "an empty wallet"},
        {10000, 0, -1, 10000, "a death: all of it"},
        {10000, 0, 0, 0, "cap 0: nothing"},
        {-5, 0, -1, 0, "an overdrawn wallet: never below zero"},
        {1, 0, -1, 1, "one fen"},
    };
    for (size_t i = 0; i < sizeof(take) / sizeof(take[0]); i++) {
        int64_t t = lapse_take(take[i].balance, take[i].keep, take[i].cap);
        CHECK(t == take[i].want, "take %zu (%s): %lld, not %lld", i, take[i].what, (long long)t,
              (long long)take[i].want);
    }

    /* the split of a lapse over the funds, to the fen */
    static const struct {
        int nf;
        const char *fund[4];
        int64_t weight[4], take;
        int nwant;
        int64_t want[4];
    } split[] = {
        {2, {"central", "district"}, {4499, 3000}, 7499, 2, {4499, 3000}}, /* all of it: exact */
        {3, {"central", "provincial", "municipal"}, {5420, 2692, 1888}, 1, 1, {1}}, /* 1 fen */
        {3,
         {"central", "provincial", "municipal"},
         {5420, 2692, 1888},
         10001,
         3,
         {5421, 2692, 1888}},
        {2, {"central", "district"}, {0, 3000}, 1000, 1, {1000}}, /* a spent fund: left out */
        {1, {""}, {5000}, 100, 0, {0}}, /* money of no named fund: the ledger splits */
        {2, {"central", "district"}, {0, 0}, 100, 0, {0}},
    };
    for (size_t i = 0; i < sizeof(split) / sizeof(split[0]); i++) {
        char fund[LAPSE_FUNDS][JOURNAL_FUND_MAX], err[128];
        for (int k = 0; k < split[i].nf; k++)
            snprintf(fund[k], sizeof(fund[k]), "%s", split[i].fund[k]);
        journal_share out[JOURNAL_SHARES_MAX];
        int n = lapse_split(split[i].nf, (const char(*)[JOURNAL_FUND_MAX])fund, split[i].weight,
                            split[i].take, out, err, sizeof(err));
        CHECK(n == split[i].nwant, "split %zu: %d shares, not %d", i, n, split[i].nwant);
        int64_t sum = 0;
        for (int k = 0; k < n && k < split[i].nwant; k++) {
            sum += out[k].amount_fen;
            CHECK(out[k].amount_fen == split[i].want[k], "split %zu share %d (%s): %lld, not %lld",
                  i, k, out[k].fund, (long long)out[k].amount_fen, (long long)split[i].want[k]);
        }
        CHECK(n <= 0 || sum == split[i].take, "split %zu: shares sum to %lld", i, (long long)sum);
    }

    /* a CreditReturned's lines: per share, wallet debited, fund credited */
    Onecard__V1__FundShare s1 = ONECARD__V1__FUND_SHARE__INIT, s2 = ONECARD__V1__FUND_SHARE__INIT;
    s1.level = "central";
    s1.amount_fen = 4499;
    s2.level = "district";
    s2.amount_fen = 3000;
    Onecard__V1__FundShare *sp[] = {&s1, &s2};
    Onecard__V1__CreditReturned m = ONECARD__V1__CREDIT_RETURNED__INIT;
    m.event_id = "e-1";
    m.return_id = "lapse-abc";
    m.card_no = "6288000000000001";
    m.wallet = "rehab";
    m.amount_fen = 7499;
    m.reason = "lapse";
    m.period = "2026-01";
    m.occurred_at_ms = 1;
    m.n_shares = 2;
    m.shares = sp;
    const event_type *t = event_type_by_desc(&onecard__v1__credit_returned__descriptor);
    journal_entry e;
    char err[256];
    CHECK(t && journal_from_event(t, &m.base, &e, err, sizeof(err)) == 0, "return: %s", err);
    CHECK(e.kind == JOURNAL_RETURN && e.nlines == 4, "return: kind %d, %d lines", e.kind, e.nlines);
    CHECK(strcmp(e.lines[0].account.name, "wallet:6288000000000001:rehab") == 0 &&
              e.lines[0].amount_fen == 4499 &&
              strcmp(e.lines[1].account.name, "fund:central:2026") == 0 &&
              e.lines[1].amount_fen == -4499 &&
              strcmp(e.lines[3].account.name, "fund:district:2026") == 0 &&
              e.lines[3].amount_fen == -3000,
          "return lines: %s %lld, %s %lld", e.lines[0].account.name,
          (long long)e.lines[0].amount_fen, e.lines[1].account.name,
          (long long)e.lines[1].amount_fen);
    /* refused: an unknown reason, a bad period, shares not summing */
    m.reason = "gift";
    CHECK(journal_from_event(t, &m.base, &e, err, sizeof(err)) < 0 && strstr(err, "reason"),
          "reason gift: %s", err);
    m.reason = "death";
    m.period = "2026-13";
    CHECK(journal_from_event(t, &m.base, &e, err, sizeof(err)) < 0 && strstr(err, "period"),
          "period 2026-13: %s", err);
    m.period = "2026-01";
    m.amount_fen = 7500;
    CHECK(journal_from_event(t, &m.base, &e, err, sizeof(err)) < 0 && strstr(err, "sum"),
          "shares not summing: %s", err);
    m.n_shares = 0; /* none: the store splits it (the suspense fund meanwhile) */
    CHECK(journal_from_event(t, &m.base, &e, err, sizeof(err)) == 0 && e.nlines == 2 &&
              strcmp(e.lines[1].account.name, "fund:unsplit:2026") == 0,
          "no shares: %s", err);
    return CHECK_DONE();
}
