-- 0021: fund shares per item (seed 002: the money for one item comes from
-- several levels of government, and the federation answers to each).
--
-- An item's fund_source column in the catalogue file is a list of shares in
-- basis points ("central:5420,provincial:2692,municipal:1888", summing to
-- 10000; a bare "central" is one share of 10000), parsed by
-- libs/common/shares.c. elig_catalogue_items.fund_shares keeps the list as
-- written canonically; fund_source keeps the first level, the name older
-- readers (issuances, the directory) use. NULL on an item loaded before:
-- one share of its fund_source.
ALTER TABLE elig_catalogue_items ADD COLUMN fund_shares text;

-- The ledger: every line that moves a wallet's, a provider's or a payee's
-- money names the fund level the money came from, so a wallet's balance per
-- fund is the sum of its lines per fund (a swipe is split pro rata over
-- them, a reversal returns its swipe's shares, a carry-over moves each
-- fund). NULL on lines written before: their money is counted under the
-- entry's fund_source.
ALTER TABLE ledger_lines ADD COLUMN fund text;

-- An entry's split as the ledger decided it ("central:271,provincial:135"),
-- so the relay rebuilds the same lines from the row (journal_derive_lines).
-- NULL: one share of fund_source (entries written before).
ALTER TABLE ledger_entries ADD COLUMN fund_shares text;

-- One line per account and fund within an entry: a swipe of three shares
-- debits the wallet three times.
ALTER TABLE ledger_lines DROP CONSTRAINT ledger_lines_pkey;
CREATE UNIQUE INDEX ledger_lines_account_fund ON ledger_lines (entry_id, account_id,
    coalesce(fund, ''));
-- a wallet's balance per fund, read for every swipe the ledger journals
CREATE INDEX ledger_lines_account ON ledger_lines (account_id);
-- a reversal takes exactly its swipe's shares: found by the swipe's id
CREATE INDEX ledger_entries_swipe ON ledger_entries (swipe_id) WHERE kind = 'swipe';

-- The ledger's contract (0012), per fund: the payable lines of the swipes
-- and reversals that occurred in [from_ms, to_ms), per provider and the
-- fund the lines name (lines written before fund shares: the entry's
-- fund_source), and the top-ups' wallet credits per fund. Settlement's
-- close compares its statements per fund with them.
CREATE FUNCTION ledger_v1_provider_fund_totals(from_ms bigint, to_ms bigint)
RETURNS TABLE (provider_id text, fund text, payable_fen bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.provider_id, coalesce(l.fund, e.fund_source, ''), -sum(l.amount_fen)::bigint
      FROM ledger_entries e JOIN ledger_lines l USING (entry_id)
      JOIN ledger_accounts a USING (account_id)
     WHERE a.kind = 'payable' AND e.occurred_at_ms >= from_ms AND e.occurred_at_ms < to_ms
     GROUP BY 1, 2
$$;

CREATE FUNCTION ledger_v1_topup_fund_totals(from_ms bigint, to_ms bigint)
RETURNS TABLE (fund text, fen bigint)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(l.fund, e.fund_source, ''), -sum(l.amount_fen)::bigint
      FROM ledger_entries e JOIN ledger_lines l USING (entry_id)
      JOIN ledger_accounts a USING (account_id)
     WHERE e.kind = 'topup' AND a.kind = 'wallet' AND e.occurred_at_ms >= from_ms
       AND e.occurred_at_ms < to_ms
     GROUP BY 1
$$;

-- Settlement: each posting's amount per fund (a posting whose lines name
-- no fund: one row of its fund_source), written with the posting, so the
-- close checks its statements per fund against the ledger's lines.
-- Statement lines, accumulators and the utilisation report already carry a
-- fund_source column: a posting of several shares adds a line per fund.
CREATE TABLE settlement_posting_funds (
    event_id   text   NOT NULL REFERENCES settlement_postings ON DELETE CASCADE,
    fund       text   NOT NULL,
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    PRIMARY KEY (event_id, fund)
);
-- the postings applied before: one share of their fund_source
INSERT INTO settlement_posting_funds (event_id, fund, amount_fen)
    SELECT event_id, fund_source, amount_fen FROM settlement_postings;
