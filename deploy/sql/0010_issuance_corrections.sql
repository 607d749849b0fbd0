-- Corrections of a period already issued. Civil affairs report late: a
-- grade raised, or a death, effective in a month whose entitlements were
-- issued before the report came. Issuing the period again recomputes every
-- grant of the persons with a card in use and compares it with what was
-- granted (the issuance plus its earlier corrections):
--   more is due: an arrears row, published as a TopupIssued of its own
--     (topup_id "<issuance's>-<n>", so the ledger applies it once);
--   less is due: an overpayment row (amount_fen < 0), never published,
--     for the federation to recover; `person show` and the run list it.
-- Re-running the period again finds nothing more to correct.
CREATE TABLE elig_issuance_corrections (
    person_id   text   NOT NULL REFERENCES elig_persons,
    item_code   text   NOT NULL REFERENCES elig_catalogue_items,
    period      text   NOT NULL,
    seq         int    NOT NULL CHECK (seq >= 1),
    topup_id    text   NOT NULL UNIQUE,
    card_no     text   NOT NULL REFERENCES elig_cards,
    wallet      text   NOT NULL,
    amount_fen  bigint NOT NULL CHECK (amount_fen <> 0),
    fund_source text   NOT NULL,
    programme   text   NOT NULL,
    published   boolean NOT NULL DEFAULT false,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, item_code, period, seq),
    FOREIGN KEY (person_id, item_code, period) REFERENCES elig_issuances
);
CREATE INDEX elig_issuance_corrections_unpublished ON elig_issuance_corrections (period)
    WHERE NOT published AND amount_fen > 0;
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_issuance_corrections
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
