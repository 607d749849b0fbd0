-- 0006: the same journal guarantees at a lower cost per entry.
--
-- A batch of 2,000 swipes writes 4,000 lines. Checked row by row, the two
-- foreign keys of ledger_lines cost 8,000 trigger calls a batch, a fifth of
-- the database's time under ledger-bench; and one outbox row per entry was
-- 2,000 inserts and 2,000 deletes more. Here:
--
-- * The statement trigger that already checks each entry's zero sum and
--   maintains the balances now also checks, once per statement and as a
--   set, that every line's entry and account exist. Entries are append-only
--   and accounts are never deleted (a trigger refuses it), so a line can
--   never lose its entry or its account afterwards: what the foreign keys
--   guaranteed still holds.
-- * The outbox holds one row per committed batch: its first entry id and
--   the ids of every entry it relays. The row is deleted once every effect
--   of the batch is acknowledged; after a crash the whole batch is relayed
--   again, which is idempotent.

ALTER TABLE ledger_lines
    DROP CONSTRAINT ledger_lines_entry_id_fkey,
    DROP CONSTRAINT ledger_lines_account_id_fkey;

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
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_accounts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger accounts are never deleted: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_accounts_kept BEFORE DELETE OR TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_accounts_kept();

-- entry_id is now the first entry of the batch; entry_ids all of them.
ALTER TABLE ledger_outbox ADD COLUMN entry_ids bigint[];
UPDATE ledger_outbox SET entry_ids = ARRAY[entry_id];
ALTER TABLE ledger_outbox ALTER COLUMN entry_ids SET NOT NULL,
    ADD CONSTRAINT ledger_outbox_nonempty CHECK (cardinality(entry_ids) > 0);
