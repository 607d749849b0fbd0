"""Benefit periods, lapse and return of credit against the real stack
(issue 15, item 3): a month issued with two fund shares, part spent, the
month ends, `onecard-ledger lapse --as-of` returns exactly the unspent fen
per fund share and keeps next month's top-up; run twice, nothing more; a
death mid-month returns the rest (`return-credit`); a run killed between
the Redis step and the broker's ack loses and doubles nothing after a
re-run. Every test ends with `reconcile`.
"""
import json
import os
import random
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import BUILD, REPO, kcat
from test_ledger import ledger_caught_up
from gateway_client import Terminal, dirload, luhn_complete

os.environ.setdefault("ONECARD_BUILD", BUILD)

ITEM = "LP-REHAB"
PROTO_DIR = os.path.join(REPO, "proto")


@pytest.fixture(scope="module")
def lp(stack):
    run = "%06d" % random.randrange(10 ** 6)
    d = {"stack": stack, "run": run, "prefix": "6289" + run,
         "f1": "central-l" + run, "f2": "district-l" + run, "prog": "rehab-l" + run,
         "provider": "PP" + run, "terminal": "TP" + run}
    dirload(stack, [
        "item %s lrehab 50000 0 0 rehabilitation" % ITEM,
        "provider %s active rehabilitation %s" % (d["provider"], ITEM),
        "terminal %s %s secret-p active" % (d["terminal"], d["provider"]),
    ])
    for f in ("f1", "f2"):
        ledger(stack, "allocate", "--fund", d[f], "--year", "2026",
               "--amount-fen", "1000000000", "--ref", f + run)
    ledger(stack, "allocate", "--programme", d["prog"], "--year", "2026",
           "--amount-fen", "500000000", "--ref", "p" + run)
    time.sleep(2.5)  # the gateway's directory refresh
    return d


def ledger(stack, *args, check=True, env_extra=None):
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port), **(env_extra or {}))
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger")] + list(args),
                       env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def redis(stack, *args):
    return subprocess.run(["redis-cli", "-p", str(stack.redis_port)] + list(args),
                          capture_output=True, text=True, check=True).stdout.strip()


def card_tag(card):
    h = 0x811C9DC5
    for b in card.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "%08x" % h


def wallet(stack, card):
    v = redis(stack, "HGET", "wallet:{c:%s}:%s" % (card_tag(card), card), "lrehab")
    return int(v or 0)


def wait_for(pred, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    pytest.fail("timed out waiting for " + what)


def reconcile(lp):
    wait_for(lambda: ledger_caught_up(lp["stack"]), 90, "the ledger to catch up")
    r = ledger(lp["stack"], "reconcile", "--card-prefix", lp["prefix"], check=False)
    assert r.returncode == 0 and "reconcile: OK" in r.stdout, r.stdout + r.stderr


def issue(lp, card, period, amount, f1_fen, credit_ends):
    """A TopupIssued of two fund shares with its credit_ends, as eligibility
    publishes it."""
    stack = lp["stack"]
    ev = str(uuid.uuid4())
    text = ('event_id: "%s" topup_id: "%s" card_no: "%s" wallet: "lrehab" item_code: "%s" '
            'fund_source: "%s" programme: "%s" period: "%s" amount_fen: %d '
            'occurred_at_ms: %d credit_ends: "%s" '
            'shares { level: "%s" amount_fen: %d } shares { level: "%s" amount_fen: %d }'
            % (ev, "t-" + uuid.uuid4().hex, card, ITEM, lp["f1"], lp["prog"], period, amount,
               int(time.time() * 1000), credit_ends, lp["f1"], f1_fen, lp["f2"],
               amount - f1_fen))
    payload = subprocess.run(["protoc", "-I", PROTO_DIR, "--encode=onecard.v1.TopupIssued",
                              os.path.join(PROTO_DIR, "topup.proto")],
                             input=text.encode(), capture_output=True, check=True).stdout
    with tempfile.NamedTemporaryFile(suffix=".pb") as f:
        f.write(payload)
        f.flush()
        subprocess.run([*kcat(), "-P", "-b", stack.brokers, "-t", "onecard.topups.v1",
                        "-k", card, "-H", "ce_id=" + ev,
                        "-H", "ce_type=onecard.v1.TopupIssued", "-H", "ce_source=/onecard/test",
                        "-H", "ce_specversion=1.0", "-H", "content-type=application/protobuf",
                        f.name], check=True, capture_output=True, timeout=60)


def new_card(lp):
    card = luhn_complete(lp["prefix"] + "".join(random.choice("0123456789") for _ in range(7)))
    dirload(lp["stack"], ["card %s person-%s active 123456" % (card, card[-6:]),
                          "entitlement %s %s 0 0 %s" % (card, ITEM, lp["f1"])])
    return card


def swipe(lp, card, amount):
    t = Terminal(lp["stack"].gateway_port, lp["terminal"], "secret-p")
    st, doc = t.swipe(card, amount, item=ITEM)
    assert st == 200 and doc["decision"] == "approved", doc
    return doc


def lapses(lp, card):
    """What the balance inquiry says lapses when (read from Redis only)."""
    t = Terminal(lp["stack"].gateway_port, lp["terminal"], "secret-p")
    st, doc = t.balance(card)
    assert st == 200 and doc["decision"] == "approved", doc
    [w] = doc["wallets"]
    return w["balance_fen"], [(x["on"], x["amount_fen"]) for x in w["lapses"]]


def wallet_funds(stack, card):
    """The journal's money per fund on the card's wallet."""
    out = stack.psql("SELECT coalesce(l.fund, ''), -sum(l.amount_fen) FROM ledger_lines l JOIN "
                     "ledger_accounts a USING (account_id) WHERE a.name = 'wallet:%s:lrehab' "
                     "GROUP BY 1 ORDER BY 1" % card)
    funds = {ln.split("|")[0]: int(ln.split("|")[1]) for ln in out.splitlines() if ln}
    return {k: v for k, v in funds.items() if v != 0}


def returned(stack, card):
    """The return entries of the card: [(reason, fen, {fund: fen})]."""
    out = stack.psql("SELECT e.reason, e.amount_fen, string_agg(l.fund || '=' || "
                     "(-l.amount_fen)::text, ',' ORDER BY l.fund) FROM ledger_entries e JOIN "
                     "ledger_lines l USING (entry_id) JOIN ledger_accounts a USING (account_id) "
                     "WHERE e.kind = 'return' AND e.card_no = '%s' AND a.kind = 'fund' "
                     "GROUP BY e.entry_id ORDER BY e.entry_id" % card)
    res = []
    for ln in out.splitlines():
        if not ln:
            continue
        reason, fen, funds = ln.split("|")
        res.append((reason, int(fen), {k: int(v) for k, v in
                                        (x.split("=") for x in funds.split(","))}))
    return res


def lapse(lp, day, **kw):
    r = ledger(lp["stack"], "lapse", "--as-of", day, "--format", "json", **kw)
    return json.loads(r.stdout)


def test_month_end_lapse_returns_the_unspent_per_fund_and_keeps_next_month(lp):
    stack = lp["stack"]
    card = new_card(lp)
    issue(lp, card, "2026-01", 10000, 6000, "2026-01-31")
    wait_for(lambda: wallet(stack, card) == 10000, what="January's credit")
    swipe(lp, card, 2501)
    # February's credit arrives before the January lapse runs
    issue(lp, card, "2026-02", 10000, 6000, "2026-02-28")
    wait_for(lambda: wallet(stack, card) == 17499, what="February's credit")
    reconcile(lp)
    # the balance inquiry: January's rest lapses after the 31st, February's
    # credit after the 28th
    assert lapses(lp, card) == (17499, [("2026-01-31", 7499), ("2026-02-28", 10000)])
    before = wallet_funds(stack, card)
    spent1 = 12000 - before[lp["f1"]]
    spent2 = 8000 - before[lp["f2"]]
    assert spent1 + spent2 == 2501

    # before January ends, nothing lapses
    lapse(lp, "2026-01-30")
    assert returned(stack, card) == []
    # a day not over yet is refused: its credit may still be spent
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    r = ledger(stack, "lapse", "--as-of", today, check=False)
    assert r.returncode == 1 and "has not ended yet" in r.stderr, r.stdout + r.stderr

    out = lapse(lp, "2026-01-31")
    assert out["reason"] == "lapse" and out["fen"] >= 7499, out
    wait_for(lambda: returned(stack, card), what="the lapse's entry")
    assert returned(stack, card) == [
        ("lapse", 7499, {lp["f1"]: 6000 - spent1, lp["f2"]: 4000 - spent2})]
    assert wallet(stack, card) == 10000  # February's credit, untouched
    assert wallet_funds(stack, card) == {lp["f1"]: 6000, lp["f2"]: 4000}
    assert lapses(lp, card) == (10000, [("2026-02-28", 10000)])
    reconcile(lp)

    # run twice: nothing more (the marker answers the same amount, the
    # ledger's event id is the same)
    lapse(lp, "2026-01-31")
    lapse(lp, "2026-02-01")
    reconcile(lp)
    assert len(returned(stack, card)) == 1
    assert wallet(stack, card) == 10000

    # February ends, unspent: all of it lapses
    lapse(lp, "2026-02-28")
    wait_for(lambda: len(returned(stack, card)) == 2, what="February's lapse")
    assert returned(stack, card)[1] == ("lapse", 10000, {lp["f1"]: 6000, lp["f2"]: 4000})
    assert wallet(stack, card) == 0
    assert lapses(lp, card) == (0, [])
    reconcile(lp)


def test_death_mid_month_returns_the_rest(lp):
    stack = lp["stack"]
    card = new_card(lp)
    issue(lp, card, "2026-03", 10001, 6001, "2026-03-31")
    wait_for(lambda: wallet(stack, card) == 10001, what="March's credit")
    swipe(lp, card, 3000)
    r = ledger(stack, "return-credit", "--card", card, "--reason", "death",
               "--as-of", "2026-03-15", "--format", "json")
    out = json.loads(r.stdout)
    assert out["fen"] == 7001 and out["cards"] == 1, out
    wait_for(lambda: returned(stack, card), what="the return's entry")
    [(reason, fen, funds)] = returned(stack, card)
    assert reason == "death" and fen == 7001 and sum(funds.values()) == 7001
    assert wallet(stack, card) == 0
    assert wallet_funds(stack, card) == {}
    # the month's end later: nothing left to lapse
    lapse(lp, "2026-03-31")
    reconcile(lp)
    assert len(returned(stack, card)) == 1
    # run again: the same, nothing more
    r = ledger(stack, "return-credit", "--card", card, "--reason", "death",
               "--as-of", "2026-03-15", "--format", "json")
    assert json.loads(r.stdout)["remembered"] == 1
    reconcile(lp)
    assert len(returned(stack, card)) == 1


def test_kill_between_the_redis_step_and_the_ack_loses_and_doubles_nothing(lp):
    stack = lp["stack"]
    card = new_card(lp)
    issue(lp, card, "2026-04", 5000, 2500, "2026-04-30")
    wait_for(lambda: wallet(stack, card) == 5000, what="April's credit")
    swipe(lp, card, 1000)
    reconcile(lp)
    # dies right after the first wallet's Redis step, before producing:
    # this test's card is the only wallet with credit ended on 2026-04-30
    r = ledger(stack, "lapse", "--as-of", "2026-04-30", check=False,
               env_extra={"ONECARD_LAPSE_DIE_AFTER": "1"})
    assert r.returncode == 9, r.stdout + r.stderr
    assert wallet(stack, card) == 0  # taken in Redis ...
    time.sleep(2)
    assert returned(stack, card) == []  # ... not journalled
    out = lapse(lp, "2026-04-30")
    assert out["remembered"] >= 1 and out["fen"] >= 4000, out
    wait_for(lambda: returned(stack, card), what="the return's entry")
    assert [x[:2] for x in returned(stack, card)] == [("lapse", 4000)]
    assert wallet(stack, card) == 0
    reconcile(lp)
    lapse(lp, "2026-04-30")
    reconcile(lp)
    assert [x[:2] for x in returned(stack, card)] == [("lapse", 4000)]
