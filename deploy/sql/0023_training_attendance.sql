-- 0023: the 在训 monthly check (seed 001: 康复训练对象在训情况每月核查机制):
-- a person entitled to a training item who has not attended for the
-- item's number of weeks has the item paused, and attendance resumes it.
--
-- The catalogue says per item how many weeks without attendance pause it
-- (attendance_weeks, 0: no check). Attendance is an approved swipe of the
-- item (read from onecard.swipes.v1 by the eligibility service's own
-- consumer group) or a row of a provider's attendance report
-- (`attendance report FILE`). The pause state is a table of its own: the
-- person's registry row and its changes are untouched, and a paused item
-- stays granted (its monthly credit is issued and kept on the card, spent
-- once the item is resumed); only the terminal refuses it (item_paused).

ALTER TABLE elig_catalogue_items ADD COLUMN attendance_weeks int NOT NULL DEFAULT 0
    CHECK (attendance_weeks BETWEEN 0 AND 52);
COMMENT ON COLUMN elig_catalogue_items.attendance_weeks IS
    'weeks without attendance after which the 在训 check pauses the item (0: never checked)';

-- The latest attendance per person and item. since_day: the first check
-- that found the person entitled (the weeks count from there when nobody
-- ever attended); last_day: the latest day attended (NULL: never).
CREATE TABLE elig_attendance (
    person_id  text NOT NULL REFERENCES elig_persons,
    item_code  text NOT NULL REFERENCES elig_catalogue_items,
    since_day  date NOT NULL,
    last_day   date,
    last_source text CHECK (last_source IN ('swipe', 'report')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, item_code)
);

-- Every pause, open while resumed_at is NULL: at most one open pause per
-- person and item. basis_day is the day the weeks were counted from (the
-- last attendance, or since_day): attendance after it resumes the item.
CREATE TABLE elig_item_pauses (
    pause_id    bigserial PRIMARY KEY,
    person_id   text NOT NULL REFERENCES elig_persons,
    item_code   text NOT NULL REFERENCES elig_catalogue_items,
    paused_on   date NOT NULL,
    basis_day   date NOT NULL,
    reason      text NOT NULL CHECK (reason <> ''),
    paused_at   timestamptz NOT NULL DEFAULT now(),
    resumed_on  date,
    resumed_by  text CHECK (resumed_by IN ('swipe', 'report')),
    resumed_at  timestamptz,
    -- the pause's and the resume's EntitlementChanged acknowledged by the
    -- broker (and the card's p:<item> in Redis written); the next check,
    -- report or swipe batch does what is left
    pause_published  boolean NOT NULL DEFAULT false,
    resume_published boolean NOT NULL DEFAULT false,
    CHECK ((resumed_on IS NULL) = (resumed_at IS NULL) AND (resumed_on IS NULL) = (resumed_by IS NULL))
);
CREATE UNIQUE INDEX elig_item_pauses_open ON elig_item_pauses (person_id, item_code)
    WHERE resumed_at IS NULL;

-- Attendance report rows already applied: (provider, card, item, day) once.
CREATE TABLE elig_attendance_reports (
    provider_id text NOT NULL REFERENCES elig_providers,
    card_no     text NOT NULL REFERENCES elig_cards,
    item_code   text NOT NULL REFERENCES elig_catalogue_items,
    attended_on date NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, card_no, item_code, attended_on)
);

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_item_pauses
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
