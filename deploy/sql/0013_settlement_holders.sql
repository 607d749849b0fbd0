-- 0013: settlement's own projection of the registry.
--
-- Before this version the utilisation report's district came from a join
-- on eligibility's elig_cards and elig_persons in settlement's hot path.
-- From this version settlement reads onecard.registry.v1 (compacted; each
-- PersonChanged and CardChanged carries its entity's whole state) in the
-- same exactly-once batches as the postings, into these two tables of its
-- own. services/settlement/holders.h.
CREATE TABLE settlement_persons (
    person_id text PRIMARY KEY,
    district  text NOT NULL DEFAULT ''
);

CREATE TABLE settlement_cards (
    card_no   text PRIMARY KEY,
    person_id text NOT NULL
);

-- The consumer reads two topics now: a rejection names the one it came
-- from (rows before this version all came from onecard.postings.v1).
ALTER TABLE settlement_rejections ADD COLUMN src_topic text NOT NULL
    DEFAULT 'onecard.postings.v1';
ALTER TABLE settlement_rejections ALTER COLUMN src_topic DROP DEFAULT;
ALTER TABLE settlement_rejections DROP CONSTRAINT settlement_rejections_pkey;
ALTER TABLE settlement_rejections ADD PRIMARY KEY (src_topic, src_partition, src_offset);
