-- 0018: payments into a person's own bank account (issue 14: item kinds
-- "cash" and "reimburse"), settlement's side.
--
-- The ledger journals a TopupIssued with payee "person" as an entry of kind
-- 'payment' (0017) and publishes it as a LedgerPosting of kind "payment":
-- fund:<fund_source>:<year> debited, payee:<person_id> credited. Settlement
-- records the posting once (settlement_postings, now with the person),
-- accumulates it per grain, period, person, item and fund source
-- (settlement_person_accum, carried into the next open period like a
-- provider's when its period is closed already), and a close writes one
-- row per person and period (settlement_person_payouts) in the transaction
-- that writes the providers' statements. A monthly close then reconciles
-- every person against the ledger (ledger_v1_payee_totals, 0017) and pays
-- the persons with an account (settlement_person_accounts) in a batch
-- (settlement_person_batches, PP-<period>-<seq>); a person without one
-- stays unpaid (batch_id NULL) until an account is recorded and the month
-- is closed again, which pays them in a new batch of the same month.
-- services/settlement/persons.h.

-- A payment names a person, never a provider.
ALTER TABLE settlement_postings ADD COLUMN person_id text;
ALTER TABLE settlement_postings DROP CONSTRAINT settlement_postings_kind_check;
ALTER TABLE settlement_postings ADD CONSTRAINT settlement_postings_kind_check
    CHECK (kind IN ('swipe', 'reversal', 'topup', 'payment'));
ALTER TABLE settlement_postings DROP CONSTRAINT settlement_postings_check;
ALTER TABLE settlement_postings ADD CONSTRAINT settlement_postings_check
    CHECK (kind IN ('topup', 'payment') OR provider_id IS NOT NULL);
ALTER TABLE settlement_postings ADD CONSTRAINT settlement_postings_person_check
    CHECK ((kind = 'payment') = (person_id IS NOT NULL));

-- The accumulators of payments: per grain (day | month), period, person,
-- item and fund source. payments/fen are payments of the period itself;
-- adj_count/adj_fen are payments of earlier closed periods carried in.
CREATE TABLE settlement_person_accum (
    person_id   text   NOT NULL,
    grain       text   NOT NULL CHECK (grain IN ('day', 'month')),
    period      text   NOT NULL,
    item_code   text   NOT NULL,
    fund_source text   NOT NULL,
    payments    bigint NOT NULL DEFAULT 0,
    fen         bigint NOT NULL DEFAULT 0,
    adj_count   bigint NOT NULL DEFAULT 0,
    adj_fen     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, period, person_id, item_code, fund_source)
);

-- Payments of a closed period carried into a later one, per person.
CREATE TABLE settlement_person_carried (
    person_id   text   NOT NULL,
    grain       text   NOT NULL CHECK (grain IN ('day', 'month')),
    from_period text   NOT NULL,
    to_period   text   NOT NULL,
    count       bigint NOT NULL DEFAULT 0,
    fen         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, from_period, to_period, person_id)
);

-- Where a person is paid (onecard-settlement person-account PERSON ACCOUNT).
CREATE TABLE settlement_person_accounts (
    person_id    text PRIMARY KEY CHECK (person_id ~ '^[0-9a-f]{64}$'),
    bank_account text NOT NULL CHECK (bank_account ~ '^[0-9A-Za-z-]{6,34}$'),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- One payout file of persons: the persons of a period with an account, not
-- paid before.
CREATE TABLE settlement_person_batches (
    batch_id   text   PRIMARY KEY,     -- PP-<period>-<seq>
    period     text   NOT NULL REFERENCES settlement_closes,
    seq        int    NOT NULL,
    lines      int    NOT NULL CHECK (lines > 0),
    total_fen  bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (period, seq)
);

-- What a closed period owes each person (the person's statement), written
-- once by the close. batch_id and the account it was paid to are set
-- together, once, by the batch that pays it; NULL: unpaid (no account yet,
-- or a daily period, which is never paid).
CREATE TABLE settlement_person_payouts (
    period       text   NOT NULL REFERENCES settlement_closes,
    person_id    text   NOT NULL,
    payments     bigint NOT NULL,
    fen          bigint NOT NULL,
    adj_count    bigint NOT NULL,
    adj_fen      bigint NOT NULL,
    total_fen    bigint NOT NULL,
    batch_id     text   REFERENCES settlement_person_batches,
    bank_account text,
    PRIMARY KEY (period, person_id),
    CHECK (total_fen = fen + adj_fen),
    CHECK ((batch_id IS NULL) = (bank_account IS NULL))
);
CREATE INDEX settlement_person_payouts_unpaid ON settlement_person_payouts (period)
    WHERE batch_id IS NULL;

CREATE TABLE settlement_person_payout_lines (
    period      text   NOT NULL,
    person_id   text   NOT NULL,
    item_code   text   NOT NULL,
    fund_source text   NOT NULL,
    payments    bigint NOT NULL,
    fen         bigint NOT NULL,
    adj_count   bigint NOT NULL,
    adj_fen     bigint NOT NULL,
    PRIMARY KEY (period, person_id, item_code, fund_source),
    FOREIGN KEY (period, person_id) REFERENCES settlement_person_payouts
);

CREATE TRIGGER settlement_person_lines_frozen BEFORE UPDATE OR DELETE
    ON settlement_person_payout_lines
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_frozen();
CREATE TRIGGER settlement_person_payouts_no_delete BEFORE DELETE ON settlement_person_payouts
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_frozen();
CREATE TRIGGER settlement_person_batches_frozen BEFORE UPDATE OR DELETE
    ON settlement_person_batches
    FOR EACH STATEMENT EXECUTE FUNCTION settlement_frozen();

-- A person's figures never change; the batch and account are set once.
CREATE FUNCTION settlement_person_payout_figures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.period, NEW.person_id, NEW.payments, NEW.fen, NEW.adj_count, NEW.adj_fen,
        NEW.total_fen) IS DISTINCT FROM
       (OLD.period, OLD.person_id, OLD.payments, OLD.fen, OLD.adj_count, OLD.adj_fen,
        OLD.total_fen) THEN
        RAISE EXCEPTION 'person payout %/% is closed: its figures cannot change', OLD.period,
            OLD.person_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.batch_id IS NOT NULL AND (NEW.batch_id, NEW.bank_account) IS DISTINCT FROM
       (OLD.batch_id, OLD.bank_account) THEN
        RAISE EXCEPTION 'person payout %/% is in batch % already', OLD.period, OLD.person_id,
            OLD.batch_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER settlement_person_payouts_figures BEFORE UPDATE ON settlement_person_payouts
    FOR EACH ROW EXECUTE FUNCTION settlement_person_payout_figures();

-- Reconciliation of persons, one row per period and person: settlement's
-- payments of the period (+ those carried out later) against the ledger's
-- payee credits of the period (ledger_v1_payee_totals).
CREATE TABLE settlement_person_reconciliations (
    period           text    NOT NULL REFERENCES settlement_closes,
    person_id        text    NOT NULL,
    payments         bigint  NOT NULL,  -- settlement: the period's own payments
    fen              bigint  NOT NULL,
    carried_count    bigint  NOT NULL,  -- the period's payments carried into later periods
    carried_fen      bigint  NOT NULL,
    ledger_payments  bigint  NOT NULL,
    ledger_fen       bigint  NOT NULL,
    ok               boolean NOT NULL,
    checked_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (period, person_id)
);
