-- 0029: benefit periods, lapse and return of credit (issue 15, item 3).
--
-- A top-up says until when its credit may be spent (TopupIssued.credit_ends,
-- from the catalogue's credit_ends column of the version it was issued
-- under); NULL: it never lapses (top-ups journalled before, and items whose
-- credit never ends).
--
-- A 'return' entry takes credit back off a wallet to the funds it came from
-- (CreditReturned): wallet -> fund:<level>:<year> per share, reason lapse,
-- death, moved or recovery. request_id holds its return_id; its event id is
-- derived from the return_id (a re-run produces the same), so the ledger's
-- one entry per event id is one entry per return.
ALTER TABLE ledger_entries ADD COLUMN credit_ends date;
ALTER TABLE ledger_entries ADD COLUMN reason text;

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('swipe', 'reversal', 'topup', 'allocation', 'transfer', 'payment',
                    'return'));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_return_reason
    CHECK (kind <> 'return' OR (reason IN ('lapse', 'death', 'moved', 'recovery')
                                AND request_id IS NOT NULL AND card_no IS NOT NULL));

CREATE INDEX ledger_entries_return ON ledger_entries (request_id) WHERE kind = 'return';

-- The lapse run finds the wallets holding credit that has ended without
-- scanning every swipe.
CREATE INDEX ledger_entries_credit_ends ON ledger_entries (credit_ends, card_no, wallet)
    WHERE kind = 'topup' AND credit_ends IS NOT NULL;

-- The catalogue's credit_ends column (a rule: month, year, grace:N, never;
-- libs/common/calendar.h), in the catalogue in force and in every version.
-- Rows loaded before it: never (their credit never lapsed).
ALTER TABLE elig_catalogue_items ADD COLUMN credit_ends text NOT NULL DEFAULT 'never';
ALTER TABLE elig_catalogue_version_items ADD COLUMN credit_ends text NOT NULL DEFAULT 'never';
