-- 0015: the days the eligibility daemon has swept for age limits (ages.c):
-- one row a day, written in the transaction of the sweep, so a day is
-- swept once and days missed while the daemon was down are caught up.
CREATE TABLE elig_age_sweeps (
    day       date        PRIMARY KEY,
    cards     integer     NOT NULL CHECK (cards >= 0),
    swept_at  timestamptz NOT NULL DEFAULT now()
);
