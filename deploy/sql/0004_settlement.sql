-- 0004_settlement: provider statements per period, from the ledger's postings.
--
-- The settlement consumer reads onecard.postings.v1 and, in one transaction
-- per batch, records each posting once (settlement_postings, keyed by the
-- posting's event_id), adds it to the accumulators of its day and of its
-- month, and stores its consumer offsets (consumer_offsets of 0001).
--
-- Periods are local (ONECARD_TZ_OFFSET_MIN): a day is 'YYYY-MM-DD', a month
-- 'YYYY-MM'. A posting belongs to the period of its occurred_at_ms. Once a
-- period is closed (settlement_closes) nothing is ever added to it again: a
-- posting of a closed period that arrives later (a late reversal, a swipe
-- the ledger applied late) is carried as an adjustment into the next period
-- of the same grain that is not closed, and settlement_carried says from
-- where to where, so reconciliation can account for every fen.
--
-- Amounts are bigint fen. The payable of a swipe is +amount (the federation
-- owes the provider), of a reversal -amount.

-- Every posting applied, once: the dedupe key and what the anomaly rules
-- and the utilisation report need.
CREATE TABLE settlement_postings (
    event_id       text   PRIMARY KEY,
    kind           text   NOT NULL CHECK (kind IN ('swipe', 'reversal', 'topup')),
    provider_id    text,
    card_no        text   NOT NULL,
    item_code      text   NOT NULL DEFAULT '',
    fund_source    text   NOT NULL DEFAULT '',
    wallet         text   NOT NULL DEFAULT '',
    amount_fen     bigint NOT NULL CHECK (amount_fen > 0),
    occurred_at_ms bigint NOT NULL,
    day            text   NOT NULL,
    month          text   NOT NULL,
    src_partition  int    NOT NULL,
    src_offset     bigint NOT NULL,
    CHECK (kind = 'topup' OR provider_id IS NOT NULL)
);
CREATE INDEX settlement_postings_month ON settlement_postings (month, kind);
CREATE INDEX settlement_postings_day ON settlement_postings (day, kind);

-- Records the consumer read and did not apply (undecodable, invalid, a
-- duplicate event id), with the reason.
CREATE TABLE settlement_rejections (
    src_partition int    NOT NULL,
    src_offset    bigint NOT NULL,
    event_id      text,
    reason        text   NOT NULL,
    rejected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (src_partition, src_offset)
);

-- The accumulators: per provider, grain (day | month), period, item and
-- fund source. swipes/amount_fen and reversals/reversed_fen are postings
-- of the period itself; adj_count/adj_fen are postings of earlier closed
-- periods carried in (adj_fen signed: + swipe, - reversal).
CREATE TABLE settlement_accum (
    provider_id  text   NOT NULL,
    grain        text   NOT NULL CHECK (grain IN ('day', 'month')),
    period       text   NOT NULL,
    item_code    text   NOT NULL,
    fund_source  text   NOT NULL,
    swipes       bigint NOT NULL DEFAULT 0,
    amount_fen   bigint NOT NULL DEFAULT 0,
    reversals    bigint NOT NULL DEFAULT 0,
    reversed_fen bigint NOT NULL DEFAULT 0,
    adj_count    bigint NOT NULL DEFAULT 0,
    adj_fen      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, period, provider_id, item_code, fund_source)
);

-- Postings of a closed period carried into a later one, per provider.
CREATE TABLE settlement_carried (
    provider_id text   NOT NULL,
    grain       text   NOT NULL CHECK (grain IN ('day', 'month')),
    from_period text   NOT NULL,
    to_period   text   NOT NULL,
    count       bigint NOT NULL DEFAULT 0,
    fen         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, from_period, to_period, provider_id)
);

-- Credits and spending per month, item, wallet and fund (utilisation).
CREATE TABLE settlement_usage (
    month        text   NOT NULL,
    item_code    text   NOT NULL,
    wallet       text   NOT NULL,
    fund_source  text   NOT NULL,
    credited_fen bigint NOT NULL DEFAULT 0,
    spent_fen    bigint NOT NULL DEFAULT 0,
    reversed_fen bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (month, item_code, wallet, fund_source)
);

-- A closed period. Written in the transaction that writes its statements;
-- from then on the consumer carries the period's late postings forward.
-- stage: statements (written), reconciled, mismatch (payout stopped),
-- published, paid (payout batches written for everything not held).
CREATE TABLE settlement_closes (
    period      text   PRIMARY KEY,
    grain       text   NOT NULL CHECK (grain IN ('day', 'month')),
    stage       text   NOT NULL DEFAULT 'statements'
                       CHECK (stage IN ('statements', 'reconciled', 'mismatch', 'published')),
    cutoff      jsonb  NOT NULL,       -- the postings high watermarks the close waited for
    closed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settlement_statements (
    statement_id    text   PRIMARY KEY,   -- ST-<period>-<provider>: stable
    provider_id     text   NOT NULL,
    period          text   NOT NULL REFERENCES settlement_closes,
    swipes          bigint NOT NULL,
    amount_fen      bigint NOT NULL,
    reversals       bigint NOT NULL,
    reversed_fen    bigint NOT NULL,
    adj_count       bigint NOT NULL,
    adjustments_fen bigint NOT NULL,
    total_fen       bigint NOT NULL,
    closed_at_ms    bigint NOT NULL,
    event_id        text   NOT NULL UNIQUE,
    published       boolean NOT NULL DEFAULT false,
    payout_batch_id text,
    UNIQUE (period, provider_id),
    CHECK (total_fen = amount_fen - reversed_fen + adjustments_fen)
);

CREATE TABLE settlement_statement_lines (
    statement_id text   NOT NULL REFERENCES settlement_statements,
    item_code    text   NOT NULL,
    fund_source  text   NOT NULL,
    swipes       bigint NOT NULL,
    amount_fen   bigint NOT NULL,
    reversals    bigint NOT NULL,
    reversed_fen bigint NOT NULL,
    adj_count    bigint NOT NULL,
    adj_fen      bigint NOT NULL,
    PRIMARY KEY (statement_id, item_code, fund_source)
);

-- Closed statements never change: the close writes them once.
CREATE FUNCTION settlement_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'closed statements are immutable: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER settlement_lines_frozen BEFORE UPDATE OR DELETE ON settlement_statement_lines
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_frozen();
CREATE TRIGGER settlement_statements_no_delete BEFORE DELETE ON settlement_statements
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_frozen();

-- A statement's figures never change; only its published flag and its
-- payout batch are set after the close.
CREATE FUNCTION settlement_statement_figures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.statement_id, NEW.provider_id, NEW.period, NEW.swipes, NEW.amount_fen, NEW.reversals,
        NEW.reversed_fen, NEW.adj_count, NEW.adjustments_fen, NEW.total_fen, NEW.closed_at_ms,
        NEW.event_id) IS DISTINCT FROM
       (OLD.statement_id, OLD.provider_id, OLD.period, OLD.swipes, OLD.amount_fen, OLD.reversals,
        OLD.reversed_fen, OLD.adj_count, OLD.adjustments_fen, OLD.total_fen, OLD.closed_at_ms,
        OLD.event_id) THEN
        RAISE EXCEPTION 'statement % is closed: its figures cannot change', OLD.statement_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.payout_batch_id IS NOT NULL AND NEW.payout_batch_id IS DISTINCT FROM OLD.payout_batch_id THEN
        RAISE EXCEPTION 'statement % is in payout batch % already', OLD.statement_id,
            OLD.payout_batch_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER settlement_statements_figures BEFORE UPDATE ON settlement_statements
    FOR EACH ROW EXECUTE FUNCTION settlement_statement_figures();

-- Where a provider is paid.
CREATE TABLE settlement_bank_accounts (
    provider_id  text PRIMARY KEY,
    bank_account text NOT NULL CHECK (bank_account <> ''),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One payout file: the statements of a period not held, not paid before.
CREATE TABLE settlement_payout_batches (
    batch_id   text   PRIMARY KEY,     -- PB-<period>-<seq>
    period     text   NOT NULL REFERENCES settlement_closes,
    seq        int    NOT NULL,
    lines      int    NOT NULL,
    total_fen  bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (period, seq)
);

-- Anomaly holds: a provider's payout for a period waits for an operator.
CREATE TABLE settlement_holds (
    provider_id text   NOT NULL,
    period      text   NOT NULL REFERENCES settlement_closes,
    rule        text   NOT NULL,
    detail      text   NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_by text,
    released_at timestamptz,
    PRIMARY KEY (period, provider_id, rule)
);

-- Reconciliation of each close, one row per provider and check.
CREATE TABLE settlement_reconciliations (
    period         text   NOT NULL REFERENCES settlement_closes,
    provider_id    text   NOT NULL,
    statement_fen  bigint NOT NULL,  -- the statement's postings of the period (no adjustments)
    carried_fen    bigint NOT NULL,  -- the period's postings carried into later periods
    ledger_fen     bigint NOT NULL,  -- payable:<provider> lines of the period in the ledger
    swipes_fen     bigint NOT NULL,  -- approved - reversed swipes of the period in the ledger
    ok             boolean NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period, provider_id)
);
