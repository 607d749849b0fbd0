-- 0017: payments into a person's own bank account (issue 14, catalogue
-- items of kind "cash" and "reimburse").
--
-- Eligibility issues them as a TopupIssued with payee "person"; the ledger
-- journals them as entries of kind 'payment', drawn from the fund and the
-- programme's budget exactly like a top-up, but credited to the person's
-- payee account instead of a card's wallet:
--
--   payment     fund:<source>:<year>    +a    payee:<person_id>   -a
--               budget:<programme>:<y>  +a    obligated:<programme>:<y> -a
--
-- A payee account is credit-normal like a wallet: -balance_fen is what the
-- federation has paid the person through the ledger. Nothing of it is in
-- Redis (no card is credited); settlement pays it out from the postings.
--
-- A topup_id is applied once whatever the payee: the unique index that
-- made a top-up's topup_id unique now covers payments too, so a top-up and
-- a payment can never share one (the ledger's own duplicate check says the
-- same, store.c).
--
-- Contract functions (0012's rules: stable, a breaking change is a v2):
--
--   ledger_v1_payee_totals(from, to)    per person, over [from, to): the
--                                       payments and the fen credited to
--                                       their payee account
--   ledger_v1_refused_topups(prefix)    now also lists payments refused as
--                                       over budget and never posted since
--
-- ledger_v1_unpublished already counts every kind but 'allocation', and
-- ledger_v1_topup_totals stays what it says: top-ups only.

ALTER TABLE ledger_accounts ADD COLUMN person_id text;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('wallet', 'payable', 'fund', 'budget', 'obligated', 'appropriation',
                    'authority', 'payee'));
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_payee_person
    CHECK (kind <> 'payee' OR person_id IS NOT NULL);

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('swipe', 'reversal', 'topup', 'allocation', 'transfer', 'payment'));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_payment_person
    CHECK (kind <> 'payment' OR (person_id IS NOT NULL AND request_id IS NOT NULL));

-- One entry per topup_id, top-up or payment (was: WHERE kind = 'topup').
DROP INDEX ledger_entries_topup;
CREATE UNIQUE INDEX ledger_entries_topup ON ledger_entries (request_id)
    WHERE kind IN ('topup', 'payment');

-- Payments are few beside swipes: settlement's monthly close reads them by
-- period without scanning the journal.
CREATE INDEX ledger_entries_payment_occurred ON ledger_entries (occurred_at_ms)
    WHERE kind = 'payment';

CREATE FUNCTION ledger_v1_payee_totals(from_ms bigint, to_ms bigint)
RETURNS TABLE (person_id text, payments bigint, fen bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.person_id, count(DISTINCT e.entry_id), -sum(l.amount_fen)::bigint
      FROM ledger_entries e JOIN ledger_lines l USING (entry_id)
      JOIN ledger_accounts a USING (account_id)
     WHERE e.kind = 'payment' AND a.kind = 'payee'
       AND e.occurred_at_ms >= from_ms AND e.occurred_at_ms < to_ms
     GROUP BY 1
$$;

CREATE OR REPLACE FUNCTION ledger_v1_refused_topups(event_prefix text)
RETURNS TABLE (request_id text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT substr(j.event_id, length(event_prefix) + 1)
      FROM ledger_rejections j
     WHERE j.code = 'over_budget' AND starts_with(j.event_id, event_prefix)
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind IN ('topup', 'payment')
                        AND e.request_id = substr(j.event_id, length(event_prefix) + 1))
$$;
