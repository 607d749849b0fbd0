-- 0028: catalogue versions in force by date (issue 15, item 2; seeds 003
-- and 004: a standard is adjusted mid-year, from a date).
--
-- `catalogue load FILE --effective YYYY-MM-DD` adds a version and keeps the
-- earlier ones. The version in force on a day is the one with the latest
-- effective date on or before it (ties: the later loaded). Issuance,
-- corrections and re-issues of a period read the version in force on each
-- of its days (registry_catalogue), so re-issuing a past month prices it
-- with that month's figures, not today's. The same file (same SHA-256 of
-- its bytes) with the same effective date is the same version: loading it
-- again adds nothing.
--
-- elig_catalogue_items and elig_catalogue_tiers stay what they were: the
-- catalogue in force today, written by the load of the version in force
-- today (every code ever loaded keeps its row: issuances and corrections
-- refer to it). The versions are the truth for every period.
CREATE TABLE elig_catalogue_versions (
    version_id   int         PRIMARY KEY,
    label        text        NOT NULL,   -- the file's "# version: " line
    effective    date        NOT NULL,
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    loaded_by    text        NOT NULL,
    correction   boolean     NOT NULL DEFAULT false,
    UNIQUE (sha256, effective)
);
CREATE INDEX elig_catalogue_versions_effective ON elig_catalogue_versions (effective, version_id);

-- the items of each version, with the columns of elig_catalogue_items
CREATE TABLE elig_catalogue_version_items (
    version_id int NOT NULL REFERENCES elig_catalogue_versions,
    LIKE elig_catalogue_items INCLUDING DEFAULTS,
    PRIMARY KEY (version_id, code)
);

-- the tier tables of each version
CREATE TABLE elig_catalogue_version_tiers (
    version_id   int    NOT NULL REFERENCES elig_catalogue_versions,
    tier         text   NOT NULL,
    when_rule    text   NOT NULL,
    ord          int    NOT NULL,
    value        bigint NOT NULL CHECK (value >= 0),
    legal_basis  text   NOT NULL,
    PRIMARY KEY (version_id, tier, when_rule)
);

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_catalogue_versions
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();

-- The version in force on day d (NULL: none yet).
CREATE FUNCTION elig_catalogue_version_at(d date) RETURNS int LANGUAGE sql STABLE AS $$
    SELECT version_id FROM elig_catalogue_versions WHERE effective <= d
     ORDER BY effective DESC, version_id DESC LIMIT 1
$$;

-- The catalogue loaded before versions existed is version 1, in force from
-- 2000-01-01 (the first period issuance accepts), so every period issued
-- before reads the figures it was issued with. Its hash is of the rows, not
-- of a file: loading the same file again adds version 2, effective on the
-- date the operator gives.
INSERT INTO elig_catalogue_versions (version_id, label, effective, sha256, loaded_at, loaded_by)
SELECT 1, min(version), DATE '2000-01-01',
       encode(sha256(convert_to(string_agg(i::text, E'\n' ORDER BY code), 'UTF8')), 'hex'),
       now(), 'migration 0028'
  FROM elig_catalogue_items i
HAVING count(*) > 0;
INSERT INTO elig_catalogue_version_items SELECT 1, i.* FROM elig_catalogue_items i
 WHERE EXISTS (SELECT 1 FROM elig_catalogue_versions WHERE version_id = 1);
INSERT INTO elig_catalogue_version_tiers SELECT 1, tier, when_rule, ord, value, legal_basis
  FROM elig_catalogue_tiers WHERE EXISTS (SELECT 1 FROM elig_catalogue_versions WHERE
                                          version_id = 1);
