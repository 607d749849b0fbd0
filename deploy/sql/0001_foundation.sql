-- 0001_foundation: what every service needs before its own tables.
--
-- Applied once by deploy/local/stack (recorded in schema_migrations, in the
-- same transaction as this file): no BEGIN/COMMIT here.

-- Kafka offsets stored next to the data they produced: a consumer that
-- writes its effects and its next offset in one PostgreSQL transaction
-- processes each message exactly once, whatever Kafka's own committed
-- offsets say after a crash. next_offset is the offset of the next message
-- to read (Kafka's convention for a committed offset).
CREATE TABLE consumer_offsets (
    consumer_group text        NOT NULL,
    topic          text        NOT NULL,
    partition      int         NOT NULL,
    next_offset    bigint      NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition),
    CHECK (partition >= 0),
    CHECK (next_offset >= 0)
);
