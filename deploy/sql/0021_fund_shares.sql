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
