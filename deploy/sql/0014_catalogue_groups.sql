-- 0014: credit is earmarked per item. Every item is credited and spent in
-- a wallet of its own, named by its code; the catalogue's fifth column,
-- which named a shared wallet, is now only a grouping for display.
ALTER TABLE elig_catalogue_items RENAME COLUMN wallet TO item_group;
COMMENT ON COLUMN elig_catalogue_items.item_group IS
    'grouping of items for display (rehab, care, ...); the money of an item is in the wallet named by its code';
