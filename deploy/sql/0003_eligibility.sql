-- 0003_eligibility: the registry (persons, cards, providers, terminals), the
-- service catalogue, entitlements, issuance records and the audit trail.
--
-- Persons are keyed by person_id = hex(SHA-256(salt || national id)): the
-- national id is never stored in clear. Names and contacts live in
-- elig_person_private, which only the registry's owner may read (REVOKE
-- below; grant it to an operators' role explicitly).
--
-- A person's attributes change over time (a grade change, a household
-- status from civil affairs, a death): elig_person_changes keeps every
-- change with its effective date and event id, and the value of an
-- attribute on a day is the change with the latest effective date on or
-- before it, ties broken by the greatest event id. That is how events that
-- arrive late, out of order or twice resolve to one answer. elig_persons
-- holds the current values for operators and the directory.
--
-- Every INSERT/UPDATE/DELETE on the registry tables is written to
-- elig_audit by a trigger, with the actor the command set for its
-- transaction (set_config('onecard.actor', ..., true)): nothing changes
-- without a who, a when, a before and an after. Secrets (PIN hashes,
-- terminal secrets) and the restricted columns (name, phone, address) are
-- left out of the trail: it records that they changed, not to what.

-- Luhn check digit over a string of digits.
CREATE FUNCTION elig_luhn_ok(n text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT n ~ '^[0-9]+$' AND (SELECT sum(CASE WHEN i % 2 = 1 THEN
                                   (CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END)
                               ELSE d END) % 10 = 0
                               FROM (SELECT i, substr(reverse(n), i + 1, 1)::int AS d
                                     FROM generate_series(0, length(n) - 1) i) x)
$$;

CREATE TABLE elig_catalogue_items (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9-]{1,31}$'),
    version         text    NOT NULL,
    category        text    NOT NULL CHECK (category IN ('rehabilitation', 'employment',
                                                         'education', 'social-security')),
    name_zh         text    NOT NULL,
    name_en         text    NOT NULL,
    wallet          text    NOT NULL,
    unit            text    NOT NULL CHECK (unit IN ('month', 'year', 'once', 'service')),
    standard_fen    bigint  NOT NULL CHECK (standard_fen >= 0),
    tier_rule       text    NOT NULL,
    eligibility     text    NOT NULL,
    annual_cap_fen  bigint  NOT NULL CHECK (annual_cap_fen >= 0),
    daily_cap_fen   bigint  NOT NULL CHECK (daily_cap_fen >= 0),
    exclusive_group text,
    fund_source     text    NOT NULL,
    programme       text    NOT NULL,
    issued          boolean NOT NULL,
    effective_from  date    NOT NULL,
    effective_to    date,
    is_default      boolean NOT NULL,
    procedure       text    NOT NULL,
    legal_basis     text    NOT NULL,
    CHECK (effective_to IS NULL OR effective_to > effective_from)
);

CREATE TABLE elig_persons (
    person_id    text PRIMARY KEY CHECK (person_id ~ '^[0-9a-f]{64}$'),
    category     text NOT NULL CHECK (category IN ('visual', 'hearing', 'speech', 'limb',
                                                   'intellectual', 'psychiatric', 'multiple')),
    grade        int  NOT NULL CHECK (grade BETWEEN 1 AND 4),
    care_level   int  NOT NULL CHECK (care_level BETWEEN 0 AND 3),
    birth_date   date NOT NULL,
    district     text NOT NULL,
    town         text NOT NULL,
    village      text NOT NULL,
    household    text NOT NULL CHECK (household IN ('none', 'dibao', 'near-poor')),
    status       text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'deceased', 'revoked', 'moved-out')),
    registered   date NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Restricted: names and contacts. Never on a topic, never in Redis.
CREATE TABLE elig_person_private (
    person_id text PRIMARY KEY REFERENCES elig_persons,
    name      text NOT NULL,
    phone     text,
    address   text
);
REVOKE ALL ON elig_person_private FROM PUBLIC;

-- attr: category, grade, care_level, household, status. value as text.
CREATE TABLE elig_person_changes (
    person_id      text NOT NULL REFERENCES elig_persons,
    attr           text NOT NULL CHECK (attr IN ('category', 'grade', 'care_level',
                                                 'household', 'status')),
    value          text NOT NULL,
    effective_from date NOT NULL,
    event_id       text NOT NULL,
    source         text NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, attr, effective_from, event_id)
);
-- the feed's daily sweep: changes that take effect today
CREATE INDEX elig_person_changes_effective ON elig_person_changes (effective_from);

CREATE SEQUENCE elig_card_seq;

CREATE TABLE elig_cards (
    card_no     text PRIMARY KEY CHECK (card_no ~ '^[0-9]{16,19}$' AND elig_luhn_ok(card_no)),
    person_id   text NOT NULL REFERENCES elig_persons,
    status      text NOT NULL CHECK (status IN ('active', 'frozen', 'lost', 'replaced',
                                                'closed')),
    pin_salt    text NOT NULL,
    pin_hash    text NOT NULL,
    replaced_by text REFERENCES elig_cards,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- One card in use (active or frozen) per person: never two active cards.
CREATE UNIQUE INDEX elig_cards_one_current ON elig_cards (person_id)
    WHERE status IN ('active', 'frozen');

CREATE TABLE elig_providers (
    provider_id text PRIMARY KEY CHECK (provider_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL,
    district    text NOT NULL,
    category    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'suspended')),
    reason      text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE elig_designations (
    provider_id text NOT NULL REFERENCES elig_providers,
    item_code   text NOT NULL REFERENCES elig_catalogue_items,
    PRIMARY KEY (provider_id, item_code)
);

-- The secret is what the gateway verifies request signatures with (HMAC),
-- so it is kept to rebuild the directory; it is shown once at creation.
CREATE TABLE elig_terminals (
    terminal_id text PRIMARY KEY CHECK (terminal_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    provider_id text NOT NULL REFERENCES elig_providers,
    secret      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'disabled')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON elig_terminals FROM PUBLIC;

-- One row per (person, item, period) ever issued: the unique key is what
-- makes a re-run issue nothing twice. published is set once the broker
-- acknowledged the TopupIssued; a later run publishes what is left.
CREATE TABLE elig_issuances (
    person_id   text   NOT NULL REFERENCES elig_persons,
    item_code   text   NOT NULL REFERENCES elig_catalogue_items,
    period      text   NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    topup_id    text   NOT NULL UNIQUE,
    card_no     text   NOT NULL REFERENCES elig_cards,
    wallet      text   NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen > 0),
    fund_source text   NOT NULL,
    programme   text   NOT NULL,
    published   boolean NOT NULL DEFAULT false,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, item_code, period)
);
CREATE INDEX elig_issuances_unpublished ON elig_issuances (period) WHERE NOT published;

-- Rows of batch files already turned into events: (source, period, row).
CREATE TABLE elig_feed_rows (
    source   text NOT NULL,
    period   text NOT NULL,
    row_no   int  NOT NULL,
    event_id text NOT NULL,
    PRIMARY KEY (source, period, row_no)
);

CREATE TABLE elig_audit (
    audit_id  bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    tbl       text NOT NULL,
    op        text NOT NULL,
    before    jsonb,
    after     jsonb
);

CREATE FUNCTION elig_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who text := coalesce(nullif(current_setting('onecard.actor', true), ''), session_user);
BEGIN
    INSERT INTO elig_audit (actor, tbl, op, before, after)
    VALUES (who, TG_TABLE_NAME, TG_OP,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - ARRAY['pin_hash', 'pin_salt',
                 'secret', 'name', 'phone', 'address'] END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - ARRAY['pin_hash', 'pin_salt',
                 'secret', 'name', 'phone', 'address'] END);
    RETURN NULL;
END $$;

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_persons
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_person_private
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_cards
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_providers
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_designations
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_terminals
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_catalogue_items
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
