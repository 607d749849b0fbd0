-- 0024: the operator API. A session is a person's (signed in, 8 hours) or
-- a script's token (operator token: as many days as it was made for, with
-- a label saying what uses it). Either is kept as the SHA-256 of the token.

ALTER TABLE elig_sessions ADD COLUMN kind text NOT NULL DEFAULT 'session'
    CHECK (kind IN ('session', 'token'));
ALTER TABLE elig_sessions ADD COLUMN label text CHECK (length(label) <= 64);
CREATE INDEX elig_sessions_operator ON elig_sessions (operator_id);
