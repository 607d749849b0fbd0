-- 0031: a wallet's balance per fund, kept as the journal is written.
--
-- The ledger splits every swipe over the funds of its wallet (pro rata,
-- 0021), so for each batch it read the wallet's balance per fund as the
-- sum of ALL the wallet's journal lines, grouped by fund: work that grew
-- with the card's history (86 us of PostgreSQL's time per swipe on a
-- bench stack after a few runs, the most expensive statement of the
-- pipeline). The same sums are now kept in ledger_account_funds by the
-- journal's own statement trigger (one upsert per INSERT of lines, from
-- its transition table), so the read is one row per (wallet, fund).
--
-- fund '' stands for lines without one (written before 0021: their money
-- is counted under the entry's fund_source), as coalesce(fund, '') did.
-- Every account is kept, not only wallets: the trigger does not join
-- ledger_accounts for the kind, and the few provider and fund accounts
-- of a batch are one row each.
CREATE TABLE ledger_account_funds (
    account_id  bigint NOT NULL,
    fund        text   NOT NULL,
    balance_fen bigint NOT NULL,
    PRIMARY KEY (account_id, fund)
);

-- The sums so far; no line is written meanwhile (the share lock waits for
-- the ledger's open transaction and holds its next one until this commits).
LOCK TABLE ledger_lines IN SHARE MODE;
INSERT INTO ledger_account_funds (account_id, fund, balance_fen)
SELECT account_id, coalesce(fund, ''), sum(amount_fen)
  FROM ledger_lines GROUP BY 1, 2;

-- 0006's trigger function, plus the per-fund sums.
CREATE OR REPLACE FUNCTION ledger_lines_post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
    want bigint;
    got bigint;
BEGIN
    SELECT l.entry_id INTO bad FROM (SELECT DISTINCT entry_id FROM new_lines) l
     WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.entry_id = l.entry_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal line of entry % has no entry', bad
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT entry_id INTO bad FROM new_lines GROUP BY entry_id
        HAVING sum(amount_fen) <> 0 OR count(*) < 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: its lines must sum to zero', bad
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE ledger_accounts a SET balance_fen = a.balance_fen + d.delta
      FROM (SELECT account_id, sum(amount_fen) AS delta FROM new_lines GROUP BY account_id) d
     WHERE a.account_id = d.account_id;
    GET DIAGNOSTICS got = ROW_COUNT;
    SELECT count(DISTINCT account_id) INTO want FROM new_lines;
    IF got <> want THEN
        RAISE EXCEPTION 'journal lines name % account(s) that do not exist', want - got
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    INSERT INTO ledger_account_funds AS f (account_id, fund, balance_fen)
    SELECT account_id, coalesce(fund, ''), sum(amount_fen) FROM new_lines GROUP BY 1, 2
    ORDER BY 1, 2
        ON CONFLICT (account_id, fund) DO UPDATE SET balance_fen = f.balance_fen + excluded.balance_fen;
    RETURN NULL;
END $$;
