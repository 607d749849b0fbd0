-- 0007: the rating service's running sums at a lower cost per batch.
--
-- Every batch moves one row per provider, per provider and item, and per
-- month in rating_scores and rating_monthly (and per tag and burst window),
-- and rating_scores a second time when a score is marked published. With
-- the default fillfactor of 100 a page has no room for the new version of
-- a row, so an update is not HOT: it writes the new version to another
-- page and a new entry into the primary key, and the old one waits for
-- vacuum. Under rating-bench that made the sums the most expensive
-- statement of a batch (a quarter of the database's time, 4 WAL records
-- per row moved once the pages had filled). Leaving 30% of each page free
-- keeps those updates on their page, with no index entry (measured on the
-- benchmark's own data: the sums statement 30-40% faster, WAL records per
-- row from about 4 to about 2.3).
--
-- The setting applies to pages written from now on; existing pages keep
-- their layout until they are rewritten (VACUUM FULL or CLUSTER, which an
-- operator may run off-hours; the service does not need it).

ALTER TABLE rating_scores SET (fillfactor = 70);
ALTER TABLE rating_monthly SET (fillfactor = 70);
ALTER TABLE rating_tags SET (fillfactor = 70);
ALTER TABLE rating_bursts SET (fillfactor = 70);
