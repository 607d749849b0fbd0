-- 0008: utilisation by district. A posting names a card; the card's holder
-- and district are the registry's (elig_cards, elig_persons, written by the
-- eligibility service in the same database), read as the posting is
-- accumulated. A card the registry does not know counts under ''.
ALTER TABLE settlement_usage ADD COLUMN district text NOT NULL DEFAULT '';
ALTER TABLE settlement_usage DROP CONSTRAINT settlement_usage_pkey;
ALTER TABLE settlement_usage ADD PRIMARY KEY (month, item_code, wallet, fund_source, district);
