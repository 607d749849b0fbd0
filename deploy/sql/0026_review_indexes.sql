-- 0026: indexes for the operator API's reads under load (tools/bench/
-- review-bench: 10,000 open applications, 50,000 persons). Without them
-- every call read whole tables: a review queue scanned all persons and all
-- applications, a search by card tail every card, a search by name every
-- name, so each grew with the district's population instead of with the
-- answer.
--
-- The review queue of a village or town reviewer: the persons of the area
-- (then their open applications through elig_applications_person).
CREATE INDEX elig_persons_village ON elig_persons (village);
CREATE INDEX elig_persons_town ON elig_persons (town);

-- A search by the card number's last digits (GET /v1/persons?card_tail=):
-- the reversed number's prefix (the database's collation is C, so a plain
-- btree serves LIKE 'prefix%').
CREATE INDEX elig_cards_reversed ON elig_cards (reverse(card_no));

-- A search by a name's beginning (GET /v1/persons?name=).
CREATE INDEX elig_person_private_name ON elig_person_private (name);
