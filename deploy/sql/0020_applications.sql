-- 0020: applications and their three-level review (village, town,
-- district), the operators who decide them, and the items that start only
-- from an approved application.
--
-- An approved application grants its items from its effective date as a
-- dated person change (attr 'grant:<item>', value '1'), so issuance
-- prorates from that day and a late approval corrects a month already
-- issued, as any other change does; elig_persons.granted holds the items
-- in force today (",A,B,"), for the directory.

ALTER TABLE elig_catalogue_items ADD COLUMN application boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN elig_catalogue_items.application IS
    'true: granted only by an approved application; false: granted from the registry';

ALTER TABLE elig_person_changes DROP CONSTRAINT elig_person_changes_attr_check;
ALTER TABLE elig_person_changes ADD CONSTRAINT elig_person_changes_attr_check
    CHECK (attr IN ('category', 'grade', 'care_level', 'household', 'status')
           OR attr ~ '^grant:[A-Z][A-Z0-9-]{1,31}$');
ALTER TABLE elig_persons ADD COLUMN granted text NOT NULL DEFAULT '';

-- The federation's staff. A reviewer answers for one area: a village
-- reviewer for a village (as elig_persons.village names it), a town
-- reviewer for a town, a district approver for a district; the other
-- roles for '*'. The password is an Argon2id encoding (salt and cost
-- inside); the audit trail never sees it.
CREATE TABLE elig_operators (
    operator_id   text PRIMARY KEY CHECK (operator_id ~ '^[a-z0-9._-]{2,32}$'),
    role          text NOT NULL CHECK (role IN ('village', 'town', 'district', 'finance',
                                                'auditor', 'administrator')),
    area          text NOT NULL CHECK (area <> ''),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    failed_logins int  NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A signed-in operator. The token is shown once; only its SHA-256 is kept.
CREATE TABLE elig_sessions (
    token_hash  text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    operator_id text NOT NULL REFERENCES elig_operators,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE TABLE elig_applications (
    application_id text PRIMARY KEY CHECK (application_id ~ '^AP-[0-9]+$'),
    person_id      text NOT NULL REFERENCES elig_persons,
    items          text[] NOT NULL CHECK (cardinality(items) BETWEEN 1 AND 39),
    agent_relation text CHECK (agent_relation IN ('guardian', 'family', 'community-worker')),
    agent_id_hash  text CHECK (agent_id_hash ~ '^[0-9a-f]{64}$'),
    state          text NOT NULL DEFAULT 'submitted'
                   CHECK (state IN ('submitted', 'village-reviewed', 'town-reviewed',
                                    'approved', 'rejected', 'returned')),
    stage_since    timestamptz NOT NULL DEFAULT now(),
    escalated_at   timestamptz,
    submitted_by   text NOT NULL,
    submitted_at   timestamptz NOT NULL DEFAULT now(),
    effective_from date,
    reason         text,
    CHECK ((agent_relation IS NULL) = (agent_id_hash IS NULL)),
    CHECK (state <> 'approved' OR effective_from IS NOT NULL),
    CHECK (state NOT IN ('rejected', 'returned') OR coalesce(reason, '') <> '')
);
CREATE SEQUENCE elig_application_seq;
CREATE INDEX elig_applications_open ON elig_applications (state, stage_since)
    WHERE state IN ('submitted', 'village-reviewed', 'town-reviewed');
-- one open application per person and item at a time
CREATE UNIQUE INDEX elig_applications_person ON elig_applications (person_id, items)
    WHERE state IN ('submitted', 'village-reviewed', 'town-reviewed', 'returned');

-- Every step of every application: who, in which role, from what to what.
CREATE TABLE elig_application_history (
    application_id text   NOT NULL REFERENCES elig_applications,
    seq            bigserial,
    at             timestamptz NOT NULL DEFAULT now(),
    operator_id    text,
    role           text,
    from_state     text,
    to_state       text NOT NULL,
    reason         text,
    PRIMARY KEY (application_id, seq)
);

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_operators
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_applications
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();

-- The audit trail records that a password or a session changed, never to what.
CREATE OR REPLACE FUNCTION elig_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who text := coalesce(nullif(current_setting('onecard.actor', true), ''), session_user);
BEGIN
    INSERT INTO elig_audit (actor, tbl, op, before, after)
    VALUES (who, TG_TABLE_NAME, TG_OP,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - ARRAY['pin_hash', 'pin_salt',
                 'secret', 'name', 'phone', 'address', 'password_hash', 'token_hash'] END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - ARRAY['pin_hash', 'pin_salt',
                 'secret', 'name', 'phone', 'address', 'password_hash', 'token_hash'] END);
    RETURN NULL;
END $$;

-- Materials: each kind stored once per person (the latest upload of a kind
-- replaces the earlier one) and reused by every later application, so a
-- person hands in a document once (最多跑一次). Type and size are checked
-- before anything is stored; the SHA-256 names the content.
CREATE TABLE elig_materials (
    person_id    text    NOT NULL REFERENCES elig_persons,
    kind         text    NOT NULL CHECK (kind IN ('certificate', 'diagnosis', 'assessment',
                                                  'id-card', 'household-register',
                                                  'income-proof', 'other')),
    sha256       text    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type text    NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                                                          'image/png')),
    size_bytes   int     NOT NULL CHECK (size_bytes BETWEEN 1 AND 5242880),
    content      bytea   NOT NULL,
    uploaded_by  text    NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, kind)
);
-- The materials an application was decided on (the kinds it names).
CREATE TABLE elig_application_materials (
    application_id text NOT NULL REFERENCES elig_applications,
    kind           text NOT NULL,
    PRIMARY KEY (application_id, kind)
);
