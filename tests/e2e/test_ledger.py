"""The ledger against the real stack: top-ups reach the hot balance once,
a payment into a person's own account is journalled and posted but never
reaches a card, budgets are enforced, bad events go to the DLQ while the
consumer goes on,
swipes and reversals are posted and their holds dropped, kill -9 twenty
times loses and duplicates nothing, a PostgreSQL outage is waited out, and
a wiped Redis is rebuilt to the fen, and the daemon's light reconcile
sees a balance changed outside the journal. Every test ends with
`reconcile`.
"""
import concurrent.futures
import glob
import hashlib
import os
import random
import signal
import subprocess
import threading
import time
import tempfile
import uuid

import pytest

from conftest import BUILD, REPO, kcat
from gateway_client import Terminal, dirload, luhn_complete

os.environ.setdefault("ONECARD_BUILD", BUILD)

ITEM = "L-REHAB"


@pytest.fixture(scope="module")
def led(stack):
    run = "%06d" % random.randrange(10 ** 6)
    d = {"stack": stack, "run": run, "prefix": "6288" + run,
         "fund": "central-t" + run, "prog": "rehab-t" + run,
         "provider": "PL" + run, "terminal": "TL" + run}
    dirload(stack, [
        "item %s rehab 50000 0 0 rehabilitation" % ITEM,
        "provider %s active rehabilitation %s" % (d["provider"], ITEM),
        "terminal %s %s secret-l active" % (d["terminal"], d["provider"]),
    ])
    ledger(stack, "allocate", "--fund", d["fund"], "--year", "2026",
           "--amount-fen", "1000000000", "--ref", "f" + run)
    ledger(stack, "allocate", "--programme", d["prog"], "--year", "2026",
           "--amount-fen", "500000000", "--ref", "p" + run)
    time.sleep(2.5)  # the gateway's directory refresh
    return d


def ledger(stack, *args, check=True):
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger")] + list(args),
                       env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def produce(stack, lines):
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-produce"), stack.brokers],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def redis(stack, *args):
    return subprocess.run(["redis-cli", "-p", str(stack.redis_port)] + list(args),
                          capture_output=True, text=True, check=True).stdout.strip()


def new_card(led):
    return luhn_complete(led["prefix"] + "".join(random.choice("0123456789") for _ in range(7)))


def funded_card(led, amount):
    """A card loaded through the directory without money, then funded by a
    top-up through the ledger (the only way money reaches a wallet)."""
    card = new_card(led)
    dirload(led["stack"], ["card %s person-%s active 123456" % (card, card[-6:]),
                           "entitlement %s %s 0 0 %s" % (card, ITEM, led["fund"])])
    topup(led, card, amount)
    return card


def topup(led, card, amount, topup_id=None):
    produce(led["stack"], ["topup %s rehab %s %s %s 2026-11 %d %s" % (
        card, ITEM, led["fund"], led["prog"], amount, topup_id or uuid.uuid4().hex)])


def card_tag(card):
    """The card's hash tag: FNV-1a over the card number (libs/common/keys.h)."""
    h = 0x811C9DC5
    for b in card.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "%08x" % h


def wallet(stack, card):
    return redis(stack, "HGET", "wallet:{c:%s}:%s" % (card_tag(card), card), "rehab")


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    pytest.fail("timed out waiting for " + what)


def ledger_caught_up(stack):
    """Every event on the swipes and top-ups topics is committed, and every
    posting and Redis effect is acknowledged."""
    hw = 0
    for topic in ("onecard.swipes.v1", "onecard.topups.v1"):
        for p in range(6):
            out = subprocess.run([*kcat(), "-b", stack.brokers, "-Q", "-t",
                                  "%s:%d:-1" % (topic, p)], capture_output=True, text=True)
            hw += int(out.stdout.split()[-1]) if out.returncode == 0 and out.stdout else 0
    stored = int(stack.psql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE "
                            "consumer_group = 'onecard-ledger'"))
    outbox = int(stack.psql("SELECT count(*) FROM ledger_outbox"))
    return stored == hw and outbox == 0


def reconcile(led):
    wait_for(lambda: ledger_caught_up(led["stack"]), 60, "the ledger to catch up")
    r = ledger(led["stack"], "reconcile", "--card-prefix", led["prefix"], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reconcile: OK" in r.stdout
    # the balances per fund the journal's trigger keeps (0031) are the sums
    # of the lines, for every account and fund
    assert led["stack"].psql(
        "SELECT count(*) FROM (SELECT account_id, coalesce(fund, '') AS fund, sum(amount_fen) "
        "AS s FROM ledger_lines GROUP BY 1, 2) l FULL JOIN ledger_account_funds k USING "
        "(account_id, fund) WHERE l.s IS DISTINCT FROM k.balance_fen") == "0"
    return r.stdout


def swipe(led, card, amount, request_id=None):
    t = Terminal(led["stack"].gateway_port, led["terminal"], "secret-l")
    return t.swipe(card, amount, item=ITEM, request_id=request_id)


def test_topup_credits_the_hot_balance_once(led):
    stack = led["stack"]
    card = funded_card(led, 30000)
    wait_for(lambda: wallet(stack, card) == "30000", what="the top-up credit")
    tid = stack.psql("SELECT request_id FROM ledger_entries WHERE kind = 'topup' AND card_no = "
                     "'%s'" % card)
    topup(led, card, 30000, topup_id=tid)  # a re-run issuance: same topup_id
    topup(led, card, 5000)
    wait_for(lambda: wallet(stack, card) == "35000", what="the second top-up")
    assert stack.psql("SELECT count(*) FROM ledger_rejections WHERE reason LIKE "
                      "'duplicate: topup %s%%'" % tid) == "1"
    assert stack.psql("SELECT -balance_fen FROM ledger_accounts WHERE name = "
                      "'wallet:%s:rehab'" % card) == "35000"

    def postings():
        return subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.postings.v1",
                               "-o", "beginning", "-e", "-q", "-f", "%k\n"],
                              capture_output=True, text=True, timeout=60).stdout.split()
    wait_for(lambda: postings().count(card) >= 2, what="the postings")
    assert postings().count(card) == 2
    reconcile(led)


def test_over_budget_and_undecodable_go_to_the_dlq(led):
    stack = led["stack"]
    card = new_card(led)
    before = int(stack.psql("SELECT count(*) FROM ledger_rejections"))
    produce(stack, [
        "topup %s rehab %s %s %s 2026-11 %d" % (card, ITEM, led["fund"], led["prog"], 6 * 10 ** 8),
        "garbage onecard.topups.v1 onecard.v1.TopupIssued",
        "garbage onecard.swipes.v1 onecard.v1.NoSuchEvent",
    ])
    good = funded_card(led, 1234)  # the consumer goes on
    wait_for(lambda: wallet(stack, good) == "1234", what="a top-up after the bad ones")
    reasons = stack.psql("SELECT reason FROM ledger_rejections ORDER BY rejected_at DESC, "
                         "src_offset LIMIT 3")
    assert int(stack.psql("SELECT count(*) FROM ledger_rejections")) == before + 3
    assert "over budget: budget:%s:2026 has" % led["prog"] in reasons
    assert reasons.count("undecodable or of an unknown type") == 2
    dlq = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.dlq.v1", "-o",
                          "beginning", "-e", "-q", "-f", "%h\n"],
                         capture_output=True, text=True, timeout=60).stdout
    assert "onecard_dlq_reason=over budget: budget:%s:2026" % led["prog"] in dlq
    assert wallet(stack, card) in (None, "")
    reconcile(led)


def test_swipe_and_reversal_are_posted_and_holds_dropped(led):
    stack = led["stack"]
    card = funded_card(led, 20000)
    wait_for(lambda: wallet(stack, card) == "20000", what="the top-up credit")
    st, doc = swipe(led, card, 7000)
    assert st == 200 and doc["decision"] == "approved", doc
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'swipe' AND "
                                "card_no = '%s'" % card) == "1", what="the swipe's entry")
    t = Terminal(stack.gateway_port, led["terminal"], "secret-l")
    st, rev = t.post("/v1/swipes/%s/reversal" % doc["swipe_id"],
                     {"request_id": uuid.uuid4().hex})
    assert st == 200, rev
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' "
                                "AND card_no = '%s'" % card) == "1", what="the reversal's entry")
    assert stack.psql("SELECT balance_fen FROM ledger_accounts WHERE name = 'payable:%s'"
                      % led["provider"]) in ("0", "")
    assert stack.psql("SELECT -balance_fen FROM ledger_accounts WHERE name = 'wallet:%s:rehab'"
                      % card) == "20000"
    reconcile(led)


class Traffic:
    """Honest terminals swiping funded cards in the background; counts the
    approvals the terminals saw, per card."""

    def __init__(self, led, cards, threads=4):
        self.led, self.cards, self.stop = led, cards, threading.Event()
        self.approved, self.other = {c: 0 for c in cards}, 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        while not self.stop.is_set():
            card = random.choice(self.cards)
            try:
                st, doc = swipe(self.led, card, random.randrange(100, 900))
            except OSError:
                st, doc = 0, {}
            with self.lock:
                if st == 200 and doc.get("decision") == "approved":
                    self.approved[card] += 1
                else:
                    self.other += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def ledger_pid(stack):
    with open(os.path.join(stack.state, "pids", "ledger.pid")) as f:
        return int(f.read().split()[0])


def restart_ledger(stack):
    r = stack.run("up", check=False, env={"ONECARD_SERVICES": "ledger"})
    assert r.returncode == 0, r.stdout + r.stderr


def assert_postings_equal_approvals(led, traffic):
    stack = led["stack"]
    cards = "','".join(traffic.cards)
    rows = stack.psql("SELECT card_no, count(*) FROM ledger_entries WHERE kind = 'swipe' AND "
                      "card_no IN ('%s') GROUP BY 1" % cards)
    posted = {c: int(n) for c, n in (r.split("|") for r in rows.splitlines() if r)}
    for c in traffic.cards:
        assert posted.get(c, 0) == traffic.approved[c], (c, posted.get(c), traffic.approved[c])


def test_kill_9_twenty_times_loses_and_duplicates_nothing(led):
    stack = led["stack"]
    cards = [funded_card(led, 10 ** 7) for _ in range(8)]
    for c in cards:
        wait_for(lambda: wallet(stack, c) == str(10 ** 7), what="the top-ups")
    kills = 0
    with Traffic(led, cards) as traffic:
        for _ in range(20):
            time.sleep(random.uniform(0.2, 1.2))
            os.kill(ledger_pid(stack), signal.SIGKILL)
            kills += 1
            time.sleep(random.uniform(0.0, 0.5))
            restart_ledger(stack)
        time.sleep(1)
    assert kills == 20
    assert sum(traffic.approved.values()) > 50, traffic.approved
    reconcile(led)
    assert_postings_equal_approvals(led, traffic)


def pg_ctl(stack, action):
    pg_ctl_bin = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    data = os.path.join(stack.state, "pg", "data")
    cmd = [pg_ctl_bin, "-D", os.path.realpath(data), "-m", "fast", "-w", action]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def test_postgres_outage_is_waited_out(led):
    stack = led["stack"]
    cards = [funded_card(led, 10 ** 7) for _ in range(4)]
    for c in cards:
        wait_for(lambda: wallet(stack, c) == str(10 ** 7), what="the top-ups")
    with Traffic(led, cards) as traffic:
        time.sleep(1)
        pg_ctl(stack, "stop")
        try:
            time.sleep(4)  # swipes keep being approved: the gateway needs no PostgreSQL
            during = sum(traffic.approved.values())
        finally:
            restart = stack.run("up", check=False)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        time.sleep(2)
    assert during > 0
    log = open(os.path.join(stack.state, "logs", "ledger.log")).read()
    assert "batch_not_applied" in log or "pg_connect_retry" in log or "postgresql" in log
    reconcile(led)
    assert_postings_equal_approvals(led, traffic)


def test_wiped_redis_is_rebuilt_to_the_fen(led):
    stack = led["stack"]
    cards = [funded_card(led, 500000) for _ in range(5)]
    for c in cards:
        wait_for(lambda: wallet(stack, c) == "500000", what="the top-ups")
    for c in cards:
        for _ in range(3):
            st, doc = swipe(led, c, random.randrange(100, 5000))
            assert st == 200 and doc["decision"] == "approved", doc
    reconcile(led)
    keys = []
    for pattern in ("wallet:*%s*", "holds:*%s*", "caps:*%s*"):
        keys += redis(stack, "--scan", "--pattern", pattern % led["prefix"]).split()
    before = {k: redis(stack, "HGETALL", k) for k in keys}
    redis(stack, "DEL", *keys)
    out = ledger(stack, "rebuild-cache", "--card-prefix", led["prefix"]).stdout
    assert "rebuild-cache:" in out
    after = {k: redis(stack, "HGETALL", k) for k in keys}
    for k in keys:
        if k.startswith("wallet:") or k.startswith("caps:"):
            assert sorted(after[k].split("\n")) == sorted(before[k].split("\n")), k
    reconcile(led)


PROTO_DIR = os.path.join(REPO, "proto")


def publish_issued(stack, **fields):
    """One TopupIssued with exactly the fields given (payee and person_id
    included, which onecard-produce does not write), encoded by protoc and
    produced by kcat with the CloudEvents type the ledger routes on. Keyed
    by the card, as eligibility publishes it."""
    text = " ".join('%s: %s' % (k, v if isinstance(v, int) else '"%s"' % v)
                    for k, v in fields.items())
    payload = subprocess.run(["protoc", "-I", PROTO_DIR, "--encode=onecard.v1.TopupIssued",
                              os.path.join(PROTO_DIR, "topup.proto")],
                             input=text.encode(), capture_output=True, check=True).stdout
    with tempfile.NamedTemporaryFile(suffix=".pb") as f:
        f.write(payload)
        f.flush()
        subprocess.run([*kcat(), "-P", "-b", stack.brokers, "-t", "onecard.topups.v1",
                        "-k", fields["card_no"], "-H", "ce_id=" + fields["event_id"],
                        "-H", "ce_type=onecard.v1.TopupIssued", "-H", "ce_source=/onecard/test",
                        "-H", "ce_specversion=1.0", "-H", "content-type=application/protobuf",
                        f.name], check=True, capture_output=True, timeout=60)


def postings_of(stack, key):
    """The LedgerPostings keyed by key, decoded by protoc (text format)."""
    listing = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", "onecard.postings.v1",
                              "-o", "beginning", "-e", "-q", "-f", "%p %o %k\n"],
                             capture_output=True, text=True, timeout=60).stdout
    out = []
    for line in listing.splitlines():
        p, o, k = line.split(" ", 2)
        if k != key:
            continue
        payload = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", "onecard.postings.v1",
                                  "-p", p, "-o", o, "-c", "1", "-e", "-q", "-D", "", "-f", "%s"],
                                 capture_output=True, timeout=30, check=True).stdout
        out.append(subprocess.run(["protoc", "-I", PROTO_DIR, "--decode=onecard.v1.LedgerPosting",
                                   os.path.join(PROTO_DIR, "ledger.proto")],
                                  input=payload, capture_output=True, check=True).stdout.decode())
    return out


def test_payment_to_a_person_is_journalled_and_posted_never_credited(led):
    """payee "person": fund and budget debited as for a top-up, the
    person's payee account credited; posted with kind "payment"; no Redis
    key of the card written; its topup_id applied once whatever the payee;
    an unknown payee, or a payment without a person, refused."""
    stack = led["stack"]
    card = new_card(led)
    person = hashlib.sha256(("pp" + led["run"] + uuid.uuid4().hex).encode()).hexdigest()
    tid = "rb-" + uuid.uuid4().hex
    amount = 4321
    t0 = int(time.time() * 1000)

    def issued(payee, topup_id=tid, person_id=person):
        ev = str(uuid.uuid4())
        publish_issued(stack, event_id=ev, topup_id=topup_id, card_no=card, person_id=person_id,
                       wallet="rehab", item_code=ITEM, fund_source=led["fund"],
                       programme=led["prog"], period="2026-11", amount_fen=amount,
                       occurred_at_ms=int(time.time() * 1000), payee=payee)
        return ev

    first = issued("person")
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_entries WHERE event_id = '%s'"
                                % first) == "1", what="the payment's entry")
    assert stack.psql("SELECT kind || '|' || person_id || '|' || request_id FROM ledger_entries "
                      "WHERE event_id = '%s'" % first) == "payment|%s|%s" % (person, tid)
    lines = stack.psql("SELECT a.name, a.kind, coalesce(a.person_id, ''), l.amount_fen FROM "
                       "ledger_lines l JOIN ledger_accounts a USING (account_id) JOIN "
                       "ledger_entries e USING (entry_id) WHERE e.event_id = '%s' ORDER BY "
                       "a.name" % first).splitlines()
    assert lines == sorted([
        "fund:%s:2026|fund||%d" % (led["fund"], amount),
        "payee:%s|payee|%s|%d" % (person, person, -amount),
        "budget:%s:2026|budget||%d" % (led["prog"], amount),
        "obligated:%s:2026|obligated||%d" % (led["prog"], -amount),
    ]), lines

    wait_for(lambda: postings_of(stack, card), what="the payment's posting")
    [posting] = postings_of(stack, card)
    assert 'kind: "payment"' in posting, posting
    assert 'source_event_id: "%s"' % first in posting, posting
    assert 'card_no: "%s"' % card in posting and 'item_code: "%s"' % ITEM in posting, posting
    assert 'fund_source: "%s"' % led["fund"] in posting, posting
    assert 'account: "payee:%s"' % person in posting, posting
    assert posting.count("lines {") == 4, posting

    # the same topup_id again, as a payment and as a top-up of the card;
    # then an unknown payee and a payment without its person
    again = issued("person")
    as_topup = issued("card")
    bank = issued("bank", topup_id="rb-" + uuid.uuid4().hex)
    nobody = issued("person", topup_id="rb-" + uuid.uuid4().hex, person_id="")
    wait_for(lambda: ledger_caught_up(stack), 60, "the ledger to catch up")

    def reason(ev):
        return stack.psql("SELECT reason FROM ledger_rejections WHERE event_id = '%s'" % ev)
    assert reason(again) == "duplicate: topup %s was applied already" % tid
    # in the batch of the first (the ledger reads batches) or after it
    assert reason(as_topup) in ("duplicate: topup %s was applied already" % tid,
                                "duplicate: topup %s appears twice in the stream" % tid)
    assert reason(bank).startswith('invalid: payee "bank" is not'), reason(bank)
    assert reason(nobody).startswith("invalid: person_id is missing"), reason(nobody)
    assert stack.psql("SELECT count(*) FROM ledger_entries WHERE request_id = '%s'" % tid) == "1"
    dlq = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.dlq.v1", "-o",
                          "beginning", "-e", "-q", "-f", "%h\n"],
                         capture_output=True, text=True, timeout=60).stdout
    assert 'onecard_dlq_reason=invalid: payee "bank" is not' in dlq

    # nothing of the card in Redis, no wallet account in the journal
    assert redis(stack, "--scan", "--pattern", "*%s*" % card) == ""
    assert stack.psql("SELECT count(*) FROM ledger_accounts WHERE card_no = '%s'" % card) == "0"
    assert stack.psql("SELECT payments || '|' || fen FROM ledger_v1_payee_totals(%d, %d) WHERE "
                      "person_id = '%s'" % (t0 - 1000, int(time.time() * 1000) + 1000,
                                            person)) == "1|%d" % amount
    assert len(postings_of(stack, card)) == 1
    reconcile(led)


BAD_JOURNAL = [
    # (what, SQL run as the ledger's own database user, what the refusal says)
    ("lines that do not sum to zero",
     "INSERT INTO ledger_lines SELECT e.entry_id, a.account_id, 1 FROM (SELECT max(entry_id) "
     "AS entry_id FROM ledger_entries) e, LATERAL (SELECT account_id FROM ledger_accounts WHERE "
     "account_id NOT IN (SELECT account_id FROM ledger_lines l WHERE l.entry_id = e.entry_id) "
     "ORDER BY account_id LIMIT 2) a",
     "does not balance"),
    ("a line of an entry that does not exist",
     "INSERT INTO ledger_lines SELECT -1, account_id, CASE WHEN n = 1 THEN 5 ELSE -5 END FROM "
     "(SELECT account_id, row_number() OVER (ORDER BY account_id) AS n FROM ledger_accounts "
     "ORDER BY account_id LIMIT 2) a",
     "has no entry"),
    ("a line naming an account that does not exist",
     "INSERT INTO ledger_lines SELECT e.entry_id, x.a, x.v FROM (SELECT max(entry_id) AS "
     "entry_id FROM ledger_entries) e, (VALUES (-1::bigint, 5), (-2::bigint, -5)) x(a, v)",
     "do not exist"),
    ("deleting an account", "DELETE FROM ledger_accounts", "never deleted"),
    ("rewriting a line", "UPDATE ledger_lines SET amount_fen = amount_fen", "append-only"),
    ("deleting an entry", "DELETE FROM ledger_entries", "append-only"),
]


@pytest.mark.parametrize("what,sql,refusal", BAD_JOURNAL, ids=[b[0] for b in BAD_JOURNAL])
def test_the_database_refuses_a_bad_journal(led, what, sql, refusal):
    """The journal's rules hold in PostgreSQL itself, whoever writes: each
    statement fails whole and changes nothing."""
    stack = led["stack"]
    wait_for(lambda: ledger_caught_up(stack), 60, "the ledger to catch up")
    assert int(stack.psql("SELECT count(*) FROM ledger_entries")) > 0, "needs a journal"
    before = stack.psql("SELECT count(*), coalesce(sum(balance_fen), 0) FROM ledger_accounts")
    lines = stack.psql("SELECT count(*) FROM ledger_lines")
    with pytest.raises(subprocess.CalledProcessError) as e:
        stack.psql(sql)
    assert refusal in e.value.stderr, e.value.stderr
    assert stack.psql("SELECT count(*), coalesce(sum(balance_fen), 0) FROM ledger_accounts") == before
    assert stack.psql("SELECT count(*) FROM ledger_lines") == lines


def ledger_metric(stack, series):
    return stack.metric("ledger", series)


def test_light_reconcile_sees_a_balance_changed_outside_the_journal(led):
    """The daemon's watch (services/ledger/watch.h, every 2 s in the test
    stack): 0 on a healthy ledger; a wallet's balance changed by an UPDATE
    (money made outside the journal) shows in both checks, conservation at
    once and balances once an entry touches the wallet; 0 again once put
    back."""
    stack = led["stack"]
    cons = 'onecard_ledger_light_reconcile_difference_fen{check="conservation"}'
    bal = 'onecard_ledger_light_reconcile_difference_fen{check="balances"}'
    last = "onecard_ledger_light_reconcile_last_success_timestamp_seconds"
    card = funded_card(led, 10000)
    wait_for(lambda: wallet(stack, card) == "10000", what="the top-up credit")

    def fresh_watch():
        t0 = time.time()
        wait_for(lambda: (ledger_metric(stack, last) or 0) > t0 + 1, 20, "a light reconcile")
    fresh_watch()
    assert ledger_metric(stack, cons) == 0 and ledger_metric(stack, bal) == 0
    name = "wallet:%s:rehab" % card
    stack.psql("UPDATE ledger_accounts SET balance_fen = balance_fen - 7 WHERE name = '%s'" % name)
    try:
        topup(led, card, 500)  # an entry that touches the wallet: the balances check reads it
        wait_for(lambda: ledger_metric(stack, cons) == 7 and ledger_metric(stack, bal) == 7, 30,
                 "the light reconcile to see 7 fen")
    finally:
        stack.psql("UPDATE ledger_accounts SET balance_fen = balance_fen + 7 WHERE name = '%s'"
                   % name)
    wait_for(lambda: ledger_metric(stack, cons) == 0, 20, "the conservation check back at 0")
    topup(led, card, 500)
    wait_for(lambda: wallet(stack, card) == "11000", what="the top-ups")
    fresh_watch()
    assert ledger_metric(stack, bal) == 0
    reconcile(led)
