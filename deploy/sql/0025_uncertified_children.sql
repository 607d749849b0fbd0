-- 0025: children under 7 without a disability certificate (seed 001:
-- “7周岁以下诊断证明的孤独症儿童”, “3周岁以下的疑似言语残疾儿童”, “持证
-- 评定表的…非持证对象”, “5月龄以内的运动障碍高危儿”).
--
-- evidence: what the person's disability rests on.
--   certificate  the disability certificate (残疾证); grade 1–4
--   assessment   an assessment form standing in for one (评定表); grade 1–4
--   diagnosis    a hospital's diagnosis, no grade (0)
--   suspected    a suspected disability or a high-risk infant's referral,
--                no grade (0)
-- Only persons under 7 are registered without a certificate (persons.c);
-- a catalogue rule that names no evidence admits certified persons only.
-- A change of evidence is a dated person change (attr 'evidence') like
-- any other, so a child certified later is issued from that day.

ALTER TABLE elig_persons ADD COLUMN evidence text NOT NULL DEFAULT 'certificate'
    CHECK (evidence IN ('certificate', 'assessment', 'diagnosis', 'suspected'));
COMMENT ON COLUMN elig_persons.evidence IS
    'certificate | assessment | diagnosis | suspected (the last two: grade 0)';

ALTER TABLE elig_persons DROP CONSTRAINT elig_persons_grade_check;
ALTER TABLE elig_persons ADD CONSTRAINT elig_persons_grade_check CHECK (grade BETWEEN 0 AND 4);

ALTER TABLE elig_person_changes DROP CONSTRAINT elig_person_changes_attr_check;
ALTER TABLE elig_person_changes ADD CONSTRAINT elig_person_changes_attr_check
    CHECK (attr IN ('category', 'grade', 'care_level', 'household', 'status', 'evidence')
           OR attr ~ '^grant:[A-Z][A-Z0-9-]{1,31}$');
