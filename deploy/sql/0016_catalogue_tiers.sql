-- 0016: the tier tables are catalogue data (catalogue.c, "Tier tables" in
-- the catalogue's README): care by grade, care level and category, the
-- living subsidy's share of the 低保 standard, limb rehabilitation by grade
-- and age. Loaded with the catalogue (`catalogue load`), read back with it.
-- The rows below are the figures the code held before (the grid check of
-- catalogue.c passes on them), so a catalogue loaded by an earlier version
-- still reads; the next load replaces them. Read back, the tables are not
-- checked again (catalogue_parse_stored): the load checked them.
CREATE TABLE elig_catalogue_tiers (
    tier         text    NOT NULL CHECK (tier IN ('care', 'dibao30', 'limb-rehab')),
    when_rule    text    NOT NULL,
    ord          int     NOT NULL,
    value        bigint  NOT NULL CHECK (value >= 0),
    legal_basis  text    NOT NULL CHECK (legal_basis <> ''),
    PRIMARY KEY (tier, when_rule)
);

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_catalogue_tiers
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();

INSERT INTO elig_catalogue_tiers (tier, when_rule, ord, value, legal_basis) VALUES
    ('care', 'grade=1;care=1', 0, 54000, 'figures of the code before 0016'),
    ('care', 'grade=1;care=2', 1, 81000, 'figures of the code before 0016'),
    ('care', 'grade=1;care=3', 2, 101000, 'figures of the code before 0016'),
    ('care', 'grade=2;care=1', 3, 27000, 'figures of the code before 0016'),
    ('care', 'grade=2;care=2', 4, 54000, 'figures of the code before 0016'),
    ('care', 'grade=2;care=3', 5, 67500, 'figures of the code before 0016'),
    ('care', 'grade=3;care=1;category=intellectual|psychiatric|multiple', 6, 13500,
     'figures of the code before 0016'),
    ('care', 'grade=3;care=2;category=intellectual|psychiatric|multiple', 7, 20000,
     'figures of the code before 0016'),
    ('care', 'grade=3;care=3;category=intellectual|psychiatric|multiple', 8, 27000,
     'figures of the code before 0016'),
    ('care', 'grade=3;care>=1;category!=intellectual|psychiatric|multiple', 9, 0,
     'figures of the code before 0016'),
    ('limb-rehab', 'grade=1;age<18', 10, 3600000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=1;age>=18', 11, 1800000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=2;age<18', 12, 3000000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=2;age>=18', 13, 1000000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=3;age<18', 14, 1800000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=3;age>=18', 15, 600000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=4;age<18', 16, 1000000, 'figures of the code before 0016'),
    ('limb-rehab', 'grade=4;age>=18', 17, 600000, 'figures of the code before 0016'),
    ('dibao30', 'all', 18, 3000, 'figures of the code before 0016');
