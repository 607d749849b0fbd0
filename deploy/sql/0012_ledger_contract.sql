-- 0012: what the ledger answers to other services, as a contract it owns.
--
-- Before this version settlement's close joined ledger_entries,
-- ledger_lines, ledger_accounts and ledger_outbox, and eligibility matched
-- ledger_rejections.reason LIKE 'over budget:%': a change of a ledger
-- table or of a message's wording would have broken them silently. From
-- this version no other service names a ledger_* table; it calls these
-- functions, which the ledger keeps stable (a breaking change is a new
-- function, ledger_v2_*, and the old one stays until nobody calls it).
--
--   ledger_v1_unpublished(before_ms)    entries committed and not yet
--                                       published, occurred before the
--                                       instant (allocations excluded)
--   ledger_v1_provider_totals(from, to) per provider, over [from, to):
--                                       payable_fen (what the ledger owes
--                                       it) and swipes_fen (swipes less
--                                       reversals)
--   ledger_v1_topup_totals(from, to)    top-ups posted over [from, to):
--                                       count and fen
--   ledger_v1_refused_topups(prefix)    request ids (the event id without
--                                       prefix) of top-ups refused as over
--                                       budget and never posted since
--
-- Instants are epoch milliseconds of when the event occurred.

-- Why a rejection happened, as a code other services may rely on (the
-- reason stays the human-readable sentence).
ALTER TABLE ledger_rejections ADD COLUMN code text;
UPDATE ledger_rejections SET code = 'over_budget' WHERE reason LIKE 'over budget:%';
CREATE INDEX ledger_rejections_code ON ledger_rejections (code) WHERE code IS NOT NULL;
COMMENT ON COLUMN ledger_rejections.code IS
    'over_budget, or NULL (duplicate, invalid, undecodable: see reason)';

CREATE FUNCTION ledger_v1_unpublished(before_ms bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM ledger_outbox o JOIN ledger_entries e USING (entry_id)
     WHERE e.occurred_at_ms < before_ms AND e.kind <> 'allocation'
$$;

CREATE FUNCTION ledger_v1_provider_totals(from_ms bigint, to_ms bigint)
RETURNS TABLE (provider_id text, payable_fen bigint, swipes_fen bigint)
LANGUAGE sql STABLE AS $$
    WITH lg AS (SELECT a.provider_id, -sum(l.amount_fen)::bigint AS fen
                  FROM ledger_entries e JOIN ledger_lines l USING (entry_id)
                  JOIN ledger_accounts a USING (account_id)
                 WHERE a.kind = 'payable' AND e.occurred_at_ms >= from_ms
                   AND e.occurred_at_ms < to_ms GROUP BY 1),
         sw AS (SELECT e.provider_id, sum(CASE e.kind WHEN 'swipe' THEN e.amount_fen
                                          ELSE -e.amount_fen END)::bigint AS fen
                  FROM ledger_entries e WHERE e.kind IN ('swipe', 'reversal')
                   AND e.occurred_at_ms >= from_ms AND e.occurred_at_ms < to_ms GROUP BY 1)
    SELECT provider_id, coalesce(lg.fen, 0), coalesce(sw.fen, 0)
      FROM lg FULL JOIN sw USING (provider_id)
$$;

CREATE FUNCTION ledger_v1_topup_totals(from_ms bigint, to_ms bigint)
RETURNS TABLE (topups bigint, fen bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(*), coalesce(sum(amount_fen), 0)::bigint FROM ledger_entries
     WHERE kind = 'topup' AND occurred_at_ms >= from_ms AND occurred_at_ms < to_ms
$$;

CREATE FUNCTION ledger_v1_refused_topups(event_prefix text)
RETURNS TABLE (request_id text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT substr(j.event_id, length(event_prefix) + 1)
      FROM ledger_rejections j
     WHERE j.code = 'over_budget' AND starts_with(j.event_id, event_prefix)
       AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'topup'
                        AND e.request_id = substr(j.event_id, length(event_prefix) + 1))
$$;
