-- 0005_rating: ratings tied to real swipes, provider scores, the year-end
-- review.
--
-- The rating service consumes onecard.ratings.v1 and onecard.swipes.v1 in
-- one consumer group and applies each batch in one transaction with its
-- offsets (consumer_offsets, 0001). Every rating's event id is kept in
-- rating_events and swipes are upserts by swipe_id, so a redelivered event
-- changes nothing. A rating is
-- accepted, rejected (with a reason code, counted per provider), or parked
-- in rating_pending while its swipe has not been read yet (the two topics
-- are keyed differently, so a rating may overtake its swipe). Scores are
-- kept as running sums (count, sum, stars 1..5) that the batch moves by
-- deltas; the Bayesian average is computed from them when read, because
-- its prior (the category's mean) moves with every rating.

-- Swipes seen: authorizations and reversals of onecard.swipes.v1. A
-- reversal read first leaves a row with authorized = false.
CREATE TABLE rating_swipes (
    swipe_id        text    PRIMARY KEY,
    card_no         text    NOT NULL,
    provider_id     text    NOT NULL,
    terminal_id     text    NOT NULL,
    item_code       text    NOT NULL DEFAULT '',
    occurred_at_ms  bigint  NOT NULL DEFAULT 0,
    authorized      boolean NOT NULL DEFAULT false,
    reversed        boolean NOT NULL DEFAULT false,
    reversed_at_ms  bigint
);

-- Event ids of the ratings already applied: the consumer's idempotence (a
-- replayed swipe or reversal is an idempotent upsert by swipe_id).
CREATE TABLE rating_events (
    event_id text PRIMARY KEY
);

-- Providers the service has seen, with the category their prior comes from
-- (read once from the directory's prov:{p:P} hash).
CREATE TABLE rating_providers (
    provider_id text PRIMARY KEY,
    category    text NOT NULL
);

-- Ratings that count: at most one per swipe.
CREATE TABLE rating_accepted (
    event_id       text    PRIMARY KEY,
    rating_id      text    NOT NULL,
    swipe_id       text    NOT NULL UNIQUE,
    card_no        text    NOT NULL,
    provider_id    text    NOT NULL,
    terminal_id    text    NOT NULL,
    item_code      text    NOT NULL,
    score          int     NOT NULL CHECK (score BETWEEN 1 AND 5),
    tags           text[]  NOT NULL DEFAULT '{}',
    period         text    NOT NULL, -- YYYY-MM of the rating, UTC
    occurred_at_ms bigint  NOT NULL,
    swipe_at_ms    bigint  NOT NULL,
    accepted_at_ms bigint  NOT NULL
);
CREATE INDEX rating_accepted_cap ON rating_accepted (card_no, provider_id, period);

-- Ratings that do not count, with the reason. reason_code is one of
-- swipe_unknown, swipe_reversed, swipe_of_another_terminal, provider_mismatch,
-- too_old, rated_before_swipe, already_rated, over_cap, invalid,
-- reversed_after_rating (an accepted rating taken back by a later reversal).
CREATE TABLE rating_rejected (
    rejection_id   bigserial PRIMARY KEY,
    event_id       text   NOT NULL,
    rating_id      text   NOT NULL DEFAULT '',
    swipe_id       text   NOT NULL DEFAULT '',
    provider_id    text   NOT NULL DEFAULT '',
    terminal_id    text   NOT NULL DEFAULT '',
    card_no        text   NOT NULL DEFAULT '',
    score          int,
    reason_code    text   NOT NULL,
    reason         text   NOT NULL,
    occurred_at_ms bigint NOT NULL DEFAULT 0,
    rejected_at_ms bigint NOT NULL
);
CREATE INDEX rating_rejected_provider ON rating_rejected (provider_id, reason_code);

-- Ratings whose swipe has not been read yet. Re-evaluated every second
-- against rating_swipes; rejected as swipe_unknown only after the grace
-- period with the consumer caught up.
CREATE TABLE rating_pending (
    event_id       text   PRIMARY KEY,
    rating_id      text   NOT NULL,
    swipe_id       text   NOT NULL,
    card_no        text   NOT NULL,
    provider_id    text   NOT NULL,
    terminal_id    text   NOT NULL,
    score          int    NOT NULL,
    tags           text[] NOT NULL DEFAULT '{}',
    occurred_at_ms bigint NOT NULL,
    parked_at_ms   bigint NOT NULL
);
CREATE INDEX rating_pending_swipe ON rating_pending (swipe_id);

-- Running sums per provider (item_code '') and per provider and item.
-- published_milli is the Bayesian score last sent on
-- onecard.provider-scores.v1 (NULL: never).
CREATE TABLE rating_scores (
    provider_id     text   NOT NULL,
    item_code       text   NOT NULL,
    n               bigint NOT NULL DEFAULT 0,
    sum             bigint NOT NULL DEFAULT 0,
    d1              bigint NOT NULL DEFAULT 0,
    d2              bigint NOT NULL DEFAULT 0,
    d3              bigint NOT NULL DEFAULT 0,
    d4              bigint NOT NULL DEFAULT 0,
    d5              bigint NOT NULL DEFAULT 0,
    published_milli int,
    PRIMARY KEY (provider_id, item_code)
);

-- The same sums per month: the trend, and the year of the review.
CREATE TABLE rating_monthly (
    provider_id text   NOT NULL,
    item_code   text   NOT NULL,
    period      text   NOT NULL, -- YYYY-MM
    n           bigint NOT NULL DEFAULT 0,
    sum         bigint NOT NULL DEFAULT 0,
    d1          bigint NOT NULL DEFAULT 0,
    d2          bigint NOT NULL DEFAULT 0,
    d3          bigint NOT NULL DEFAULT 0,
    d4          bigint NOT NULL DEFAULT 0,
    d5          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, item_code, period)
);

CREATE TABLE rating_tags (
    provider_id text   NOT NULL,
    tag         text   NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (provider_id, tag)
);

-- 5-star ratings given soon after their swipe, counted per terminal and
-- window: a window at or over the threshold is a flagged burst.
CREATE TABLE rating_bursts (
    terminal_id text   NOT NULL,
    window_ms   bigint NOT NULL, -- start of the window, Unix ms
    provider_id text   NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (terminal_id, window_ms)
);

-- Year-end review decisions: what an operator confirmed, and what the
-- registry said.
CREATE TABLE rating_review (
    decision_id    bigserial PRIMARY KEY,
    year           int    NOT NULL,
    provider_id    text   NOT NULL,
    action         text   NOT NULL CHECK (action IN ('suspended', 'suspend_failed')),
    reason         text   NOT NULL,
    detail         text   NOT NULL DEFAULT '',
    actor          text   NOT NULL,
    decided_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rating_review_provider ON rating_review (provider_id, year);
