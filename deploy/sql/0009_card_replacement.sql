-- Card replacement: a lost or damaged card is replaced and what its wallets
-- hold moves to the new card, to the fen, once.
--
-- Eligibility records the replacement (the old card 'replaced', the new
-- one active, one carry-over row) in one transaction, stops the old card
-- in Redis, and once every swipe of the old card is posted it publishes a
-- BalanceCarryOver on onecard.topups.v1 (sent_at marks the broker's
-- acknowledgement; the daemon sends what a command could not).
--
-- The ledger records the move (ledger_card_moves, at the offset it was
-- read from, so reconcile still accounts for every offset) and writes a
-- 'transfer' entry per wallet: debit wallet:<old>, credit wallet:<new>.
-- Whatever reaches the old card later (a reversal of one of its swipes, a
-- top-up issued to it before the replacement) is moved on in the same
-- batch, so an old card's wallets stay at zero.
--
-- A card frozen by the eligibility feed (death, revocation, moving out)
-- remembers it, so the feed unfreezes it again when the person becomes
-- active again; a card an operator froze stays frozen.

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('swipe', 'reversal', 'topup', 'allocation', 'transfer'));
ALTER TABLE ledger_entries ADD COLUMN to_card_no text;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_transfer_cards
    CHECK (kind <> 'transfer' OR (card_no IS NOT NULL AND to_card_no IS NOT NULL AND
                                  card_no <> to_card_no AND wallet IS NOT NULL));

CREATE TABLE ledger_card_moves (
    from_card_no  text   PRIMARY KEY,
    to_card_no    text   NOT NULL CHECK (to_card_no <> from_card_no),
    event_id      text   NOT NULL UNIQUE,
    person_id     text,
    moved_at_ms   bigint NOT NULL,
    src_topic     text,
    src_partition int,
    src_offset    bigint,
    UNIQUE (src_topic, src_partition, src_offset)
);
CREATE INDEX ledger_card_moves_to ON ledger_card_moves (to_card_no);

CREATE TABLE elig_card_carryovers (
    from_card_no text PRIMARY KEY REFERENCES elig_cards,
    to_card_no   text NOT NULL REFERENCES elig_cards,
    person_id    text NOT NULL REFERENCES elig_persons,
    reason       text NOT NULL CHECK (reason IN ('lost', 'damaged', 'other')),
    actor        text NOT NULL,
    event_id     text NOT NULL UNIQUE,
    requested_at timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX elig_card_carryovers_unsent ON elig_card_carryovers (requested_at)
    WHERE sent_at IS NULL;
CREATE TRIGGER elig_audit AFTER INSERT OR UPDATE OR DELETE ON elig_card_carryovers
    FOR EACH ROW EXECUTE FUNCTION elig_audit_row();

ALTER TABLE elig_cards ADD COLUMN frozen_by text
    CHECK (frozen_by IS NULL OR frozen_by IN ('operator', 'eligibility'));
