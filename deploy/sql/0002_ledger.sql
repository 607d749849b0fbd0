-- 0002_ledger: the double-entry journal, its accounts and the outbox.
--
-- Sign convention: a line's amount is positive for a debit and negative for
-- a credit; an account's balance_fen is the sum of its lines. Wallets,
-- payables, funds, budgets and obligations are credit-normal: what a card
-- may spend, what the federation owes a provider, what a fund or a
-- programme budget still holds is -balance_fen.
--
--   swipe       wallet:<card>:<wallet>  +a    payable:<provider>  -a
--   reversal    wallet:<card>:<wallet>  -a    payable:<provider>  +a
--   top-up      fund:<source>:<year>    +a    wallet:<card>:<w>   -a
--               budget:<programme>:<y>  +a    obligated:<programme>:<y> -a
--   allocation  appropriation:<source>  +a    fund:<source>:<year> -a
--               authority:<programme>   +a    budget:<programme>:<year> -a
--
-- The top-up's second pair is budgetary (as in government accounting: an
-- allotment drawn down against an obligation); it keeps the programme's
-- remaining budget in the same journal, under the same zero-sum rule.
--
-- The database enforces the rules: lines are append-only, the lines of each
-- INSERT statement sum to zero per entry, every account's balance is
-- maintained by the same statement trigger, and funds and budgets never go
-- below zero (a CHECK on the balance).

CREATE TABLE ledger_accounts (
    account_id  bigserial PRIMARY KEY,
    name        text   NOT NULL UNIQUE,
    kind        text   NOT NULL CHECK (kind IN ('wallet', 'payable', 'fund', 'budget',
                                                'obligated', 'appropriation', 'authority')),
    card_no     text,
    wallet      text,
    provider_id text,
    fund_source text,
    programme   text,
    year        int,
    balance_fen bigint NOT NULL DEFAULT 0,
    CONSTRAINT ledger_accounts_no_overdraft
        CHECK (kind NOT IN ('fund', 'budget') OR balance_fen <= 0),
    CHECK (kind <> 'wallet' OR (card_no IS NOT NULL AND wallet IS NOT NULL)),
    CHECK (kind <> 'payable' OR provider_id IS NOT NULL)
);
CREATE INDEX ledger_accounts_card ON ledger_accounts (card_no) WHERE kind = 'wallet';

-- One entry per applied event. src_* is where the event was read: every
-- offset a ledger consumer has passed is either an entry or a rejection,
-- which is how reconcile proves that nothing was lost or applied twice.
CREATE TABLE ledger_entries (
    entry_id       bigserial PRIMARY KEY,
    event_id       text   NOT NULL UNIQUE,
    kind           text   NOT NULL CHECK (kind IN ('swipe', 'reversal', 'topup', 'allocation')),
    amount_fen     bigint NOT NULL CHECK (amount_fen > 0),
    card_no        text,
    wallet         text,
    provider_id    text,
    terminal_id    text,
    item_code      text,
    fund_source    text,
    programme      text,
    period         text,
    swipe_id       text,
    request_id     text,
    person_id      text,
    occurred_at_ms bigint NOT NULL,
    posted_at_ms   bigint NOT NULL,
    src_topic      text,
    src_partition  int,
    src_offset     bigint,
    UNIQUE (src_topic, src_partition, src_offset)
);
-- A top-up is issued once per topup_id (stable per person, item and
-- period), whatever its event id: a re-run issuance is a duplicate.
CREATE UNIQUE INDEX ledger_entries_topup ON ledger_entries (request_id) WHERE kind = 'topup';

CREATE TABLE ledger_lines (
    entry_id   bigint NOT NULL REFERENCES ledger_entries,
    account_id bigint NOT NULL REFERENCES ledger_accounts,
    amount_fen bigint NOT NULL CHECK (amount_fen <> 0),
    PRIMARY KEY (entry_id, account_id)
);

-- Events the ledger read and did not apply, with the reason: undecodable or
-- invalid (also dead-lettered), over budget (dead-lettered), or a duplicate
-- event id (already applied from another offset).
CREATE TABLE ledger_rejections (
    src_topic     text   NOT NULL,
    src_partition int    NOT NULL,
    src_offset    bigint NOT NULL,
    event_id      text,
    reason        text   NOT NULL,
    amount_fen    bigint,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (src_topic, src_partition, src_offset)
);

-- Entries whose after-commit effects are not done yet: the posting event on
-- onecard.postings.v1 and the Redis side (the swipe's hold dropped, the
-- top-up credited). A row is written with its entry and deleted once both
-- are acknowledged; whatever is left after a crash is relayed again.
CREATE TABLE ledger_outbox (
    entry_id bigint PRIMARY KEY
);

CREATE FUNCTION ledger_lines_post() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    SELECT entry_id INTO bad FROM new_lines GROUP BY entry_id
        HAVING sum(amount_fen) <> 0 OR count(*) < 2 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: its lines must sum to zero', bad
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE ledger_accounts a SET balance_fen = a.balance_fen + d.delta
      FROM (SELECT account_id, sum(amount_fen) AS delta FROM new_lines GROUP BY account_id) d
     WHERE a.account_id = d.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_lines_post AFTER INSERT ON ledger_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_lines_post();

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
