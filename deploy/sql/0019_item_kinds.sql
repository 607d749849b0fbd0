-- 0019: how each item is delivered (the catalogue's kind column), and the
-- two kinds that start from a document rather than from the calendar:
-- quotes (a provider's price for a one-off item, approved by the
-- federation) and reimbursements (a person's paid invoice). Both become a
-- TopupIssued like an issuance: a quote credits the card's wallet of the
-- item, a reimbursement is paid into the person's own account (payee
-- "person"); cash items are issued by the month and paid the same way.

ALTER TABLE elig_catalogue_items DROP CONSTRAINT elig_catalogue_items_unit_check;
ALTER TABLE elig_catalogue_items ADD CONSTRAINT elig_catalogue_items_unit_check
    CHECK (unit IN ('month', 'year', 'once', 'service', 'session', 'hour'));
ALTER TABLE elig_catalogue_items ADD COLUMN kind text NOT NULL DEFAULT 'credit'
    CHECK (kind IN ('credit', 'priced', 'quote', 'reimburse', 'cash'));
COMMENT ON COLUMN elig_catalogue_items.kind IS
    'credit, priced, quote, reimburse, cash: see services/eligibility/catalogue/README.md';

-- A provider's quote for a person's one-off item. Approved once: the
-- amount becomes a one-time credit of the item on the person's card,
-- spendable only at this provider. topup_id is the TopupIssued's.
CREATE TABLE elig_quotes (
    quote_id     text   PRIMARY KEY CHECK (quote_id ~ '^QT-[0-9]+$'),
    person_id    text   NOT NULL REFERENCES elig_persons,
    item_code    text   NOT NULL REFERENCES elig_catalogue_items,
    provider_id  text   NOT NULL REFERENCES elig_providers,
    reference    text   NOT NULL CHECK (reference ~ '^[A-Za-z0-9_./-]{1,64}$'),
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    state        text   NOT NULL DEFAULT 'submitted'
                        CHECK (state IN ('submitted', 'approved', 'rejected')),
    submitted_by text   NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT now(),
    decided_by   text,
    decided_at   timestamptz,
    reason       text,
    -- set on approval: what is published
    topup_id     text   UNIQUE,
    card_no      text   REFERENCES elig_cards,
    period       text   CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    fund_source  text,
    programme    text,
    published    boolean NOT NULL DEFAULT false,
    UNIQUE (provider_id, reference),
    CHECK (state <> 'approved' OR (topup_id IS NOT NULL AND card_no IS NOT NULL
                                   AND period IS NOT NULL AND fund_source IS NOT NULL
                                   AND programme IS NOT NULL)),
    CHECK (state <> 'rejected' OR coalesce(reason, '') <> '')
);
CREATE SEQUENCE elig_quote_seq;
CREATE INDEX elig_quotes_unpublished ON elig_quotes (quote_id)
    WHERE state = 'approved' AND NOT published;

-- A paid invoice refunded into the person's own account. An invoice is
-- refunded once per item.
CREATE TABLE elig_reimbursements (
    reimbursement_id text   PRIMARY KEY CHECK (reimbursement_id ~ '^RB-[0-9]+$'),
    person_id        text   NOT NULL REFERENCES elig_persons,
    item_code        text   NOT NULL REFERENCES elig_catalogue_items,
    invoice          text   NOT NULL CHECK (invoice ~ '^[A-Za-z0-9_./-]{1,64}$'),
    paid_on          date   NOT NULL,
    amount_fen       bigint NOT NULL CHECK (amount_fen > 0),
    recorded_by      text   NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    topup_id         text   NOT NULL UNIQUE,
    card_no          text   NOT NULL REFERENCES elig_cards,
    period           text   NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    fund_source      text   NOT NULL,
    programme        text   NOT NULL,
    published        boolean NOT NULL DEFAULT false,
    UNIQUE (item_code, invoice)
);
CREATE SEQUENCE elig_reimbursement_seq;
CREATE INDEX elig_reimbursements_unpublished ON elig_reimbursements (reimbursement_id)
    WHERE NOT published;
CREATE INDEX elig_reimbursements_person ON elig_reimbursements (person_id, item_code, paid_on);

CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_quotes
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_reimbursements
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();
