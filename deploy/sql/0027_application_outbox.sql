-- The applications' outbox. Every row of the history is one
-- ApplicationChanged on onecard.applications.v1, with the event id it was
-- written with (a consumer that sees it twice drops the second), sent
-- after the transaction that wrote it and marked published once the
-- broker acknowledged it. An action whose send failed (the broker or
-- Redis away) answers "published": false; the daemon sends the rest every
-- few seconds, projecting an approved person's card before the event.
-- The rows written before this migration were sent by their actions.
ALTER TABLE elig_application_history
    ADD COLUMN event_id text NOT NULL DEFAULT gen_random_uuid()::text,
    ADD COLUMN published boolean NOT NULL DEFAULT true;
ALTER TABLE elig_application_history ALTER COLUMN published SET DEFAULT false;
CREATE UNIQUE INDEX elig_application_history_event ON elig_application_history (event_id);
CREATE INDEX elig_application_history_unpublished ON elig_application_history (application_id, seq)
    WHERE NOT published;
