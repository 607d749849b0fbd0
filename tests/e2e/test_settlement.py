"""Settlement against the real stack: postings produced the real way
(synthetic swipes and reversals on onecard.swipes.v1, applied by the
ledger, relayed on onecard.postings.v1, accumulated by the settlement
daemon), then closes. Closing twice gives the same statements and files; a
late reversal lands in the next period as an adjustment; an injected
difference stops the payout; kill -9 at each step of a close then a re-run
completes exactly once; an anomaly holds a payout until released; the
utilisation report adds up. Payments into persons' own accounts (kind
"payment") are paid by the month to the persons with an account; the
others are listed unpaid until their account is recorded and the month is
closed again; a payment the ledger never journaled stops the payout.

Each test uses its own period (a day or month of 2026 already over), so
they share the stack without seeing each other's postings.
"""
import datetime
import hashlib
import json
import os
import random
import signal
import subprocess
import time
import uuid

import pytest

from conftest import BUILD, kcat
from gateway_client import dirload

os.environ.setdefault("ONECARD_BUILD", BUILD)

TZ = datetime.timezone(datetime.timedelta(minutes=480))


def at_ms(y, m, d, hh=12, mm=0, ss=0):
    return int(datetime.datetime(y, m, d, hh, mm, ss, tzinfo=TZ).timestamp() * 1000)


@pytest.fixture(scope="module")
def st(stack, tmp_path_factory):
    run = "%06d" % random.randrange(10 ** 6)
    d = {"stack": stack, "run": run, "item": "S-REHAB-" + run, "fund": "central-s" + run,
         "out": str(tmp_path_factory.mktemp("payout"))}
    # the catalogue: the daily cap the "amounts at the cap" rule looks at
    dirload(stack, ["item %s rehab 50000 10000 0 rehabilitation" % d["item"]])
    return d


def settlement(st, *args, env=None, check=None, timeout=180):
    stack = st["stack"]
    e = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
             ONECARD_REDIS_PORT=str(stack.redis_port), ONECARD_SETTLEMENT_PAYOUT_DIR=st["out"])
    e.update(env or {})
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-settlement")] + list(args),
                       env=e, capture_output=True, text=True, timeout=timeout)
    if check is not None:
        assert r.returncode == check, r.stdout + r.stderr
    return r


def produce(st, lines):
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-produce"), st["stack"].brokers],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [json.loads(x)["event_id"] for x in r.stdout.splitlines()]


def provider(st, name, bank=True):
    p = "P%s%s" % (name, st["run"])
    if bank:
        settlement(st, "bank-account", p, "6222%s%s" % (st["run"], "0" * 8), check=0)
    return p


def swipe(st, card, prov, amount, ms):
    return "swipe-at %s rehab %s %s %s %d %d" % (card, prov, st["item"], st["fund"], amount, ms)


def reversal(st, card, prov, amount, ms):
    return "reversal %s rehab %s %s %s %d %d" % (card, prov, st["item"], st["fund"], amount, ms)


def card(st):
    return "6288" + st["run"] + "".join(random.choice("0123456789") for _ in range(6))


def close(st, period, check=0, env=None):
    return settlement(st, "close", "--period", period, "--wait", "90", check=check, env=env)


def statements(st, period):
    rows = st["stack"].psql(
        "SELECT provider_id, swipes, amount_fen, reversals, reversed_fen, adjustments_fen, "
        "total_fen, statement_id, event_id, coalesce(payout_batch_id, '') FROM "
        "settlement_statements WHERE period = '%s' ORDER BY 1" % period)
    return [r.split("|") for r in rows.splitlines() if r]


def statement_of(st, period, prov):
    for r in statements(st, period):
        if r[0] == prov:
            return {"swipes": int(r[1]), "amount": int(r[2]), "reversals": int(r[3]),
                    "reversed": int(r[4]), "adj": int(r[5]), "total": int(r[6]), "id": r[7],
                    "event_id": r[8], "batch": r[9]}
    return None


def payout_files(st, period):
    return sorted(f for f in os.listdir(st["out"]) if f.startswith("payout-PB-%s-" % period))


def read_csv(st, name):
    with open(os.path.join(st["out"], name)) as f:
        return [line.rstrip("\n").split(",") for line in f]


def settlement_events(st, provider_id):
    """Event ids of the statements published for a provider (keyed by it)."""
    out = subprocess.run([*kcat(), "-C", "-b", st["stack"].brokers, "-t",
                          "onecard.settlements.v1", "-e", "-q", "-f", "%k %h\n"],
                         capture_output=True, text=True, timeout=60)
    ids = []
    for line in out.stdout.splitlines():
        key, _, headers = line.partition(" ")
        if key == provider_id:
            ids += [h[len("ce_id="):] for h in headers.split(",") if h.startswith("ce_id=")]
    return ids


def wait_for(pred, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    pytest.fail("timed out waiting for " + what)


def test_closing_twice_gives_the_same_statements(st):
    a, b = provider(st, "A"), provider(st, "B")
    c1, c2 = card(st), card(st)
    produce(st, [swipe(st, c1, a, 5000, at_ms(2026, 3, 2)),
                 swipe(st, c1, a, 2500, at_ms(2026, 3, 15)),
                 swipe(st, c2, a, 1234, at_ms(2026, 3, 31, 23, 59)),
                 reversal(st, c1, a, 2500, at_ms(2026, 3, 16)),
                 swipe(st, c2, b, 7000, at_ms(2026, 3, 20)),
                 # the local month: 2026-04-01 00:10 +08:00 is not March
                 swipe(st, c2, b, 999, at_ms(2026, 4, 1, 0, 10))])
    r = close(st, "2026-03")
    assert "ok   TOTAL" in r.stdout and "ok   FUNDS" in r.stdout, r.stdout
    assert "payouts: 2 statement(s) paid 13234 fen (batches say 13234) + 0 held 0 fen" in r.stdout
    sa, sb = statement_of(st, "2026-03", a), statement_of(st, "2026-03", b)
    assert sa and sb, (a, b, statements(st, "2026-03"), r.stdout)
    assert (sa["swipes"], sa["amount"], sa["reversals"], sa["reversed"], sa["total"]) == \
        (3, 8734, 1, 2500, 6234)
    assert (sb["swipes"], sb["amount"], sb["total"]) == (1, 7000, 7000)
    assert sa["id"] == "ST-2026-03-" + a
    first = statements(st, "2026-03")
    files = payout_files(st, "2026-03")
    assert files == ["payout-PB-2026-03-1.csv"]
    csv1 = read_csv(st, files[0])
    rows = {x[3]: x for x in csv1 if x[0] == "payout"}
    assert rows[a][5] == "6234" and rows[a][2] == sa["id"] and rows[a][4].startswith("6222")
    control = [x for x in csv1 if x[0] == "control"][0]
    assert int(control[5]) == sum(int(x[5]) for x in csv1 if x[0] == "payout")
    assert int(control[4]) == len(rows)

    r2 = close(st, "2026-03")
    assert "closed before" in r2.stdout
    assert statements(st, "2026-03") == first
    assert payout_files(st, "2026-03") == files
    assert read_csv(st, files[0]) == csv1
    ids = settlement_events(st, a)
    assert ids and set(ids) == {sa["event_id"]}
    # the database refuses to rewrite a closed statement or pay it twice
    for sql in ("UPDATE settlement_statements SET total_fen = total_fen + 1 WHERE "
                "statement_id = '%s'" % sa["id"],
                "UPDATE settlement_statements SET payout_batch_id = NULL WHERE "
                "statement_id = '%s'" % sa["id"],
                "DELETE FROM settlement_statement_lines WHERE statement_id = '%s'" % sa["id"]):
        with pytest.raises(subprocess.CalledProcessError):
            st["stack"].psql(sql)
    assert statements(st, "2026-03") == first


def test_late_reversal_lands_in_the_next_period(st):
    c = provider(st, "C")
    k = card(st)
    produce(st, [swipe(st, k, c, 5000, at_ms(2026, 4, 10, 9)),
                 swipe(st, k, c, 3000, at_ms(2026, 4, 10, 10))])
    r = close(st, "2026-04-10")
    assert "daily close: no payout file" in r.stdout
    assert payout_files(st, "2026-04-10") == []
    before = statement_of(st, "2026-04-10", c)
    assert before["total"] == 8000
    # the reversal happened on the 10th but reaches settlement after the close
    produce(st, [reversal(st, k, c, 3000, at_ms(2026, 4, 10, 18))])
    r = close(st, "2026-04-10")
    assert statement_of(st, "2026-04-10", c) == before, "a closed statement changed"
    assert "carried out -3000" in r.stdout, r.stdout
    close(st, "2026-04-11")
    nxt = statement_of(st, "2026-04-11", c)
    assert (nxt["adj"], nxt["total"], nxt["swipes"], nxt["reversals"]) == (-3000, -3000, 0, 0)
    # the month was not closed: there the reversal is an ordinary one
    close(st, "2026-04")
    month = statement_of(st, "2026-04", c)
    assert (month["amount"], month["reversed"], month["adj"], month["total"]) == \
        (8000, 3000, 0, 5000)


def test_reconciliation_catches_an_injected_mismatch(st):
    e, f = provider(st, "E"), provider(st, "F")
    k = card(st)
    produce(st, [swipe(st, k, e, 4000, at_ms(2026, 5, 6)),
                 swipe(st, k, f, 1500, at_ms(2026, 5, 7))])
    psql = st["stack"].psql
    wait_for(lambda: psql("SELECT count(*) FROM settlement_accum WHERE grain = 'month' AND "
                          "period = '2026-05' AND provider_id IN ('%s', '%s')" % (e, f)) == "2",
             what="settlement to accumulate")
    # one fen too many on E's side, as a bug or a tampered row would leave it
    psql("UPDATE settlement_accum SET amount_fen = amount_fen + 1 WHERE grain = 'month' AND "
         "period = '2026-05' AND provider_id = '%s'" % e)
    r = close(st, "2026-05", check=1)
    diff = [x for x in r.stdout.splitlines() if x.strip().startswith("DIFF")]
    assert any(e in x and "statement 4001" in x and "ledger payable 4000" in x for x in diff), \
        r.stdout
    assert not any(f in x for x in diff), r.stdout
    assert payout_files(st, "2026-05") == []
    assert psql("SELECT stage FROM settlement_closes WHERE period = '2026-05'") == "mismatch"
    assert psql("SELECT ok FROM settlement_reconciliations WHERE period = '2026-05' AND "
                "provider_id = '%s'" % e) == "f"
    assert settlement_events(st, e) == []
    # a re-run still refuses
    close(st, "2026-05", check=1)


def kill_at(st, period, marker):
    """Starts a close that pauses at every step and kill -9s it at marker."""
    stack = st["stack"]
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port), ONECARD_SETTLEMENT_PAYOUT_DIR=st["out"],
               ONECARD_SETTLEMENT_CLOSE_PAUSE_MS="30000")
    p = subprocess.Popen([os.path.join(BUILD, "bin", "onecard-settlement"), "close",
                          "--period", period, "--wait", "90"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in p.stdout:
            seen.append(line)
            if marker in line:
                p.send_signal(signal.SIGKILL)
                break
    finally:
        p.kill()
        p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL and any(marker in x for x in seen), \
        "".join(seen) + p.stderr.read()


def test_kill_9_during_a_close_then_rerun_completes_exactly_once(st):
    g, h = provider(st, "G"), provider(st, "H")
    k1, k2 = card(st), card(st)
    produce(st, [swipe(st, k1, g, 3000, at_ms(2026, 6, 3)),
                 swipe(st, k2, g, 4500, at_ms(2026, 6, 4)),
                 swipe(st, k2, h, 800, at_ms(2026, 6, 5))])
    psql = st["stack"].psql
    kill_at(st, "2026-06", "pause at statements (not committed)")
    assert psql("SELECT count(*) FROM settlement_closes WHERE period = '2026-06'") == "0"
    assert statements(st, "2026-06") == []
    kill_at(st, "2026-06", "pause at published (not marked)")
    assert len(statements(st, "2026-06")) == 2
    kill_at(st, "2026-06", "pause at payout batch (not committed)")
    assert psql("SELECT count(*) FROM settlement_payout_batches WHERE period = '2026-06'") == "0"
    close(st, "2026-06")
    close(st, "2026-06")
    rows = statements(st, "2026-06")
    assert [(r[0], int(r[6])) for r in rows] == sorted([(g, 7500), (h, 800)])
    assert psql("SELECT count(*), sum(lines), sum(total_fen) FROM settlement_payout_batches "
                "WHERE period = '2026-06'") == "1|2|8300"
    files = payout_files(st, "2026-06")
    assert files == ["payout-PB-2026-06-1.csv"]
    body = read_csv(st, files[0])
    assert sorted((x[3], x[5]) for x in body if x[0] == "payout") == sorted([(g, "7500"),
                                                                            (h, "800")])
    assert [x for x in body if x[0] == "control"][0][4:6] == ["2", "8300"]
    # published at least once, and always as the same event (consumers
    # deduplicate on it): one distinct event id per statement
    sg = statement_of(st, "2026-06", g)
    assert set(settlement_events(st, g)) == {sg["event_id"]}
    assert not os.path.exists(os.path.join(st["out"], files[0] + ".tmp"))


def test_anomalies_hold_a_payout_until_released(st):
    i, j, n = provider(st, "I"), provider(st, "J"), provider(st, "N", bank=False)
    k1, k2, k3 = card(st), card(st), card(st)
    # I: one card swiped 9 times in one day (more than 8)
    lines = [swipe(st, k1, i, 100, at_ms(2026, 7, 8, 9, m)) for m in range(9)]
    # J: ordinary, but its card was at I ten seconds before
    lines += [swipe(st, k2, i, 200, at_ms(2026, 7, 9, 10, 0, 0)),
              swipe(st, k2, j, 300, at_ms(2026, 7, 9, 10, 0, 10))]
    # N: no bank account
    lines += [swipe(st, k3, n, 400, at_ms(2026, 7, 20))]
    produce(st, lines)
    r = close(st, "2026-07")
    held = [x for x in r.stdout.splitlines() if "HELD" in x]
    assert any(i in x and "swipes_per_card_day" in x for x in held), r.stdout
    assert any(j in x and "provider_hop" in x for x in held), r.stdout
    assert any(n in x and "no_bank_account" in x for x in held), r.stdout
    assert payout_files(st, "2026-07") == []  # everyone is held
    rel = settlement(st, "release", i, "--period", "2026-07", "--actor", "ops-li", check=0)
    assert "swipes_per_card_day released by ops-li" in rel.stdout
    assert "provider_hop released by ops-li" in rel.stdout
    settlement(st, "release", i, "--period", "2026-07", "--actor", "ops-li", check=1)
    close(st, "2026-07")
    assert payout_files(st, "2026-07") == ["payout-PB-2026-07-1.csv"]
    assert [x[3] for x in read_csv(st, "payout-PB-2026-07-1.csv") if x[0] == "payout"] == [i]
    settlement(st, "release", j, "--period", "2026-07", "--actor", "ops-wang", check=0)
    settlement(st, "release", n, "--period", "2026-07", "--actor", "ops-wang", check=1)
    close(st, "2026-07")
    assert [x[3] for x in read_csv(st, "payout-PB-2026-07-2.csv") if x[0] == "payout"] == [j]
    settlement(st, "bank-account", n, "6222000011112222", check=0)
    close(st, "2026-07")
    assert payout_files(st, "2026-07") == ["payout-PB-2026-07-%d.csv" % x for x in (1, 2, 3)]
    assert [x[3] for x in read_csv(st, "payout-PB-2026-07-3.csv") if x[0] == "payout"] == [n]
    # the first file is written again identically, never with later payees
    assert [x[3] for x in read_csv(st, "payout-PB-2026-07-1.csv") if x[0] == "payout"] == [i]
    bad = settlement(st, "bank-account", n, "6222 0000", check=2)
    assert "position 5" in bad.stderr


def test_amounts_clustered_at_the_cap_are_held(st):
    q = provider(st, "Q")
    lines = [swipe(st, card(st), q, 9900 + m, at_ms(2026, 8, 1 + m)) for m in range(6)]
    lines.append(swipe(st, card(st), q, 3000, at_ms(2026, 8, 20)))
    produce(st, lines)
    r = close(st, "2026-08")
    assert any(q in x and "amounts_at_cap" in x and "6 of 7 swipes" in x
               for x in r.stdout.splitlines()), r.stdout


def test_utilisation_report(st):
    stack = st["stack"]
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger"), "allocate", "--fund",
                    st["fund"], "--year", "2026", "--amount-fen", "100000000", "--ref",
                    "s" + st["run"]], env=env, check=True, capture_output=True, timeout=60)
    r = provider(st, "R")
    k = card(st)
    psql = st["stack"].psql
    invalid = "SELECT count(*) FROM settlement_rejections WHERE reason LIKE 'invalid%'"
    invalid_before = psql(invalid)  # other tests' samples may be there already
    now = int(time.time() * 1000)
    month = datetime.datetime.fromtimestamp(now / 1000, TZ).strftime("%Y-%m")
    produce(st, ["topup %s rehab %s %s - %s 30000 %s" % (k, st["item"], st["fund"], month,
                                                           uuid.uuid4().hex),
                 swipe(st, k, r, 10000, now), swipe(st, k, r, 500, now),
                 reversal(st, k, r, 500, now)])
    wait_for(lambda: psql("SELECT count(*) FROM settlement_postings WHERE card_no = '%s'" % k)
             == "4", what="settlement to see the top-up and the swipes")
    out = settlement(st, "report", "--period", month, "--format", "json", check=0).stdout
    rep = json.loads(out)
    row = [x for x in rep["rows"] if x["item_code"] == st["item"] and
           x["fund_source"] == st["fund"]][0]
    assert row == {"item_code": st["item"], "category": "rehabilitation", "district": "",
                   "fund_source": st["fund"], "credited_fen": 30000, "spent_fen": 10000,
                   "remaining_fen": 20000, "used_bp": 3333}
    csv = settlement(st, "report", "--period", month, "--format", "csv", check=0).stdout
    assert "%s,rehabilitation,,%s,30000,10000,20000,3333" % (st["item"], st["fund"]) in csv
    # the fund allocation's posting is skipped, not dead-lettered
    wait_for(lambda: psql("SELECT count(*) FROM settlement_rejections WHERE reason = "
                          "'skipped: an allocation is not settled'") != "0",
             what="the allocation's posting to be skipped")
    assert psql(invalid) == invalid_before
    bad = settlement(st, "report", "--period", "2026-13", "--format", "json", check=2)
    assert "month 13" in bad.stderr
    bad = settlement(st, "close", "--period", "2026-02-30", check=2)
    assert "no day 30" in bad.stderr


def settlement_pid(stack):
    with open(os.path.join(stack.state, "pids", "settlement.pid")) as f:
        return int(f.read().split()[0])


def test_kill_9_of_the_daemon_loses_and_duplicates_nothing(st):
    """The settlement daemon killed five times while it accumulates 20,000
    postings: offsets and effects commit together, so the close then counts
    every posting exactly once."""
    stack = st["stack"]
    k = provider(st, "K")
    cards = [card(st) for _ in range(50)]
    n, lines, total = 20000, [], 0
    for i in range(n):
        amount = 100 + i % 997
        total += amount
        lines.append(swipe(st, cards[i % 50], k, amount,
                           at_ms(2026, 9, 1 + i % 30, 8 + i % 10, i % 60)))
    produce(st, lines)
    for _ in range(5):
        time.sleep(random.uniform(0.3, 1.0))
        os.kill(settlement_pid(stack), signal.SIGKILL)
        time.sleep(random.uniform(0.0, 0.3))
        r = stack.run("up", check=False, env={"ONECARD_SERVICES": "settlement"})
        assert r.returncode == 0, r.stdout + r.stderr
    r = close(st, "2026-09")
    s = statement_of(st, "2026-09", k)
    assert (s["swipes"], s["amount"], s["total"]) == (n, total, total), r.stdout
    assert st["stack"].psql("SELECT count(*) FROM settlement_postings WHERE provider_id = '%s'"
                            % k) == str(n)


def test_redelivered_postings_count_once(st):
    """Every posting read again from offset 0 (as after a lost offsets
    table, or the relay publishing again) changes nothing: settlement is
    idempotent on the posting's event id."""
    stack, psql = st["stack"], st["stack"].psql
    snap = ("SELECT md5(string_agg(concat_ws('|', provider_id, grain, period, item_code, "
            "fund_source, swipes, amount_fen, reversals, reversed_fen, adj_count, adj_fen), ',' "
            "ORDER BY grain, period, provider_id, item_code, fund_source)) FROM settlement_accum")
    before, postings = psql(snap), psql("SELECT count(*) FROM settlement_postings")
    assert int(postings) > 0
    stack.run("stop", "settlement")
    psql("DELETE FROM consumer_offsets WHERE consumer_group = 'onecard-settlement'")
    r = stack.up_or_start("start", "settlement")
    assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: int(psql("SELECT count(*) FROM settlement_rejections WHERE reason LIKE "
                              "'duplicate:%'")) >= int(postings),
             timeout=90, what="every posting to be read again")
    assert psql(snap) == before
    assert psql("SELECT count(*) FROM settlement_postings") == postings


def registered_card(st, district):
    """A person registered in district through the eligibility service's own
    commands, with a card: the utilisation report's district is theirs."""
    env = dict(st["stack"].env, ONECARD_PG_DSN=st["stack"].pg_dsn,
               ONECARD_KAFKA_BROKERS=st["stack"].brokers,
               ONECARD_REDIS_PORT=str(st["stack"].redis_port))
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = "110105197003%02d%03d" % (random.randrange(1, 29), random.randrange(1000))
    nid = body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]

    def elig(*args):
        r = subprocess.run([os.path.join(BUILD, "bin", "onecard-eligibility")] + list(args),
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout
    elig("catalogue", "load", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                           "..", "services", "eligibility", "catalogue",
                                           "catalogue-2026.tsv"), "--actor", "test")
    pid = elig("person", "add", "--national-id", nid, "--name", "测试", "--category", "limb",
               "--grade", "2", "--care-level", "1", "--birth", "1970-03-01", "--district",
               district, "--town", "T", "--village", "V", "--household", "none", "--since",
               "2026-01-01", "--actor", "test").split()[1]
    return elig("card", "issue", pid, "--pin", "123456", "--actor", "test").split()[1]


def test_utilisation_by_the_holders_district(st):
    """Spending on a registered card counts under its holder's district; the
    report's rows per district add up to the card's postings."""
    district = "区%s" % st["run"]
    k = registered_card(st, district)
    # settlement learns the holder from onecard.registry.v1 (its own
    # projection, not eligibility's tables); a card swiped before that event
    # is read would count under district "" (the registry's events precede
    # a card's first swipe in life; here they are milliseconds apart)
    wait_for(lambda: st["stack"].psql("SELECT p.district FROM settlement_cards c JOIN "
                                      "settlement_persons p USING (person_id) WHERE c.card_no = "
                                      "'%s'" % k) == district,
             what="settlement to project the card's holder from the registry")
    r = provider(st, "D")
    now = int(time.time() * 1000)
    month = datetime.datetime.fromtimestamp(now / 1000, TZ).strftime("%Y-%m")
    produce(st, [swipe(st, k, r, 4200, now), swipe(st, k, r, 800, now)])
    wait_for(lambda: st["stack"].psql("SELECT count(*) FROM settlement_postings WHERE card_no = "
                                      "'%s'" % k) == "2", what="settlement to see the swipes")
    rows = json.loads(settlement(st, "report", "--period", month, "--format", "json",
                                 check=0).stdout)["rows"]
    mine = [x for x in rows if x["district"] == district]
    assert len(mine) == 1 and mine[0]["spent_fen"] == 5000, mine
    assert mine[0]["item_code"] == st["item"] and mine[0]["fund_source"] == st["fund"]


# ------------------------------------------------------------------ persons
#
# Payments into a person's own bank account (issue 14): a TopupIssued with
# payee "person" (what eligibility emits for a cash item or a reimbursed
# invoice) goes the real way, applied by the ledger as a payment and relayed
# as a posting of kind "payment"; a monthly close pays the persons with an
# account and lists the others as unpaid. The events are encoded here by
# hand (a few protobuf fields), as onecard-produce has no payee.


def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb_str(no, s):
    b = s if isinstance(s, bytes) else s.encode()
    return _varint(no << 3 | 2) + _varint(len(b)) + b


def _pb_int(no, v):
    return _varint(no << 3) + _varint(v)


def publish(st, topic, ce_type, key, payload):
    """One protobuf event on topic with the CloudEvents headers, via kcat."""
    path = os.path.join(st["out"], "event-%s.bin" % uuid.uuid4().hex)
    with open(path, "wb") as f:
        f.write(payload)
    try:
        r = subprocess.run([*kcat(), "-P", "-b", st["stack"].brokers, "-t", topic, "-k", key,
                            "-H", "ce_type=" + ce_type, "-H", "ce_id=" + uuid.uuid4().hex,
                            "-H", "ce_source=/onecard/test", "-H", "ce_specversion=1.0",
                            "-H", "content-type=application/protobuf", path],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    finally:
        os.unlink(path)


def person(st, name):
    """A person id as the registry makes them: 64 lowercase hex."""
    return hashlib.sha256(("person-%s-%s" % (name, st["run"])).encode()).hexdigest()


def persons_fund(st):
    """The fund persons are paid from, allocated once for 2026 (the ledger
    refuses a payment its fund cannot cover)."""
    if "persons_fund" not in st:
        fund = "cash-s" + st["run"]
        stack = st["stack"]
        env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
                   ONECARD_REDIS_PORT=str(stack.redis_port))
        subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger"), "allocate", "--fund", fund,
                        "--year", "2026", "--amount-fen", "100000000", "--ref",
                        "sp" + st["run"]], env=env, check=True, capture_output=True, timeout=60)
        st["persons_fund"] = fund
    return st["persons_fund"]


def pay(st, card_no, person_id, item, amount, ms):
    """A payment into the person's account, through the ledger."""
    eid = str(uuid.uuid4())
    period = datetime.datetime.fromtimestamp(ms / 1000, TZ).strftime("%Y-%m")
    publish(st, "onecard.topups.v1", "onecard.v1.TopupIssued", card_no,
            _pb_str(1, eid) + _pb_str(2, "pay-" + eid) + _pb_str(3, card_no) +
            _pb_str(4, person_id) + _pb_str(5, "cash") + _pb_str(6, item) +
            _pb_str(7, persons_fund(st)) + _pb_str(9, period) + _pb_int(10, amount) +
            _pb_int(11, ms) + _pb_str(12, "person"))
    return eid


def payment_posting(st, card_no, person_id, item, amount, ms):
    """A posting of kind payment published straight on onecard.postings.v1,
    as a relay bug would: settlement counts it, the ledger never journaled
    it."""
    fund = persons_fund(st)
    lines = [("fund:%s:2026" % fund, amount), ("payee:" + person_id, -amount)]
    body = (_pb_str(1, str(uuid.uuid4())) + _pb_str(4, "payment") + _pb_str(5, card_no) +
            _pb_str(7, item) + _pb_str(8, fund))
    for acct, fen in lines:
        body += _pb_str(9, _pb_str(1, acct) + _pb_int(2, fen))
    publish(st, "onecard.postings.v1", "onecard.v1.LedgerPosting", card_no,
            body + _pb_int(11, ms))


def person_files(st, period):
    return sorted(f for f in os.listdir(st["out"]) if f.startswith("payout-PP-%s-" % period))


def test_person_payments_paid_held_and_paid_after_person_account(st):
    pa, pb = person(st, "A"), person(st, "B")
    cash, med = "S-CASH-" + st["run"], "S-MED-" + st["run"]
    acct_a = "6222%s%s" % (st["run"], "00000001")
    settlement(st, "person-account", pa, acct_a, check=0)
    ka, kb = card(st), card(st)
    # 2026-10-01 00:10 +08:00 is September in UTC, October locally
    pay(st, ka, pa, cash, 30000, at_ms(2026, 10, 1, 0, 10))
    pay(st, ka, pa, cash, 111, at_ms(2026, 10, 5))
    pay(st, ka, pa, med, 12345, at_ms(2026, 10, 20))
    pay(st, kb, pb, cash, 30000, at_ms(2026, 10, 5))
    # November's: not October's
    pay(st, kb, pb, cash, 500, at_ms(2026, 11, 1, 0, 10))
    fund = persons_fund(st)

    r = close(st, "2026-10")
    out = r.stdout
    assert "ok   PERSONS" in out and "payments 4 (72456 fen)" in out and \
        "ledger 4 (72456 fen)" in out, out
    assert "persons: 1 paid 42456 fen (batches say 1 person(s) 42456 fen) + 1 unpaid 30000 fen " \
        "= 2 person(s) 72456 fen" in out, out
    assert any(x.startswith("close: UNPAID %s 30000 fen in 1 payment(s)" % pb)
               for x in out.splitlines()), out
    files = person_files(st, "2026-10")
    assert files == ["payout-PP-2026-10-1-items.csv", "payout-PP-2026-10-1.csv"]
    batch1 = read_csv(st, "payout-PP-2026-10-1.csv")
    assert batch1 == [
        ["record", "batch_id", "person_id", "bank_account", "payments", "amount_fen", "period"],
        ["payout", "PP-2026-10-1", pa, acct_a, "3", "42456", "2026-10"],
        ["control", "PP-2026-10-1", "", "", "1", "42456", "2026-10"]]
    items1 = read_csv(st, "payout-PP-2026-10-1-items.csv")
    assert items1 == [
        ["record", "batch_id", "person_id", "item_code", "fund_source", "payments", "amount_fen",
         "period"],
        ["item", "PP-2026-10-1", pa, cash, fund, "2", "30111", "2026-10"],
        ["item", "PP-2026-10-1", pa, med, fund, "1", "12345", "2026-10"],
        ["control", "PP-2026-10-1", "", "", "", "2", "42456", "2026-10"]]
    unpaid = read_csv(st, "unpaid-persons-2026-10.csv")
    assert unpaid == [["record", "person_id", "payments", "amount_fen", "period"],
                      ["unpaid", pb, "1", "30000", "2026-10"],
                      ["control", "", "1", "30000", "2026-10"]]
    psql = st["stack"].psql
    batches = ("SELECT count(*), sum(lines), sum(total_fen) FROM settlement_person_batches "
               "WHERE period = '2026-10'")
    assert psql(batches) == "1|1|42456"

    # a re-run: the same files, no second batch
    r = close(st, "2026-10")
    assert "closed before" in r.stdout and "ok   PERSONS" in r.stdout, r.stdout
    assert person_files(st, "2026-10") == files
    assert read_csv(st, "payout-PP-2026-10-1.csv") == batch1
    assert read_csv(st, "payout-PP-2026-10-1-items.csv") == items1
    assert read_csv(st, "unpaid-persons-2026-10.csv") == unpaid
    assert psql(batches) == "1|1|42456"
    # a daily close reconciles the day's payments and pays nobody
    r = close(st, "2026-10-05")
    assert "ok   PERSONS" in r.stdout and "payments 2 (30111 fen)" in r.stdout, r.stdout
    assert "daily close: no payout file" in r.stdout
    assert person_files(st, "2026-10-05") == []

    # B's account recorded: the next close of October pays B, in a batch of
    # its own; A is never paid twice
    bad = settlement(st, "person-account", pb[:-1], "6222000011112222", check=2)
    assert "not a person id" in bad.stderr
    bad = settlement(st, "person-account", pb, "6222 0000", check=2)
    assert "position 5" in bad.stderr
    acct_b = "6222%s%s" % (st["run"], "00000002")
    r = settlement(st, "person-account", pb, acct_b, check=0)
    assert "is owed 30000 fen of 2026-10, unpaid: run close --period 2026-10 again" in r.stdout
    r = close(st, "2026-10")
    assert "persons: 2 paid 72456 fen (batches say 2 person(s) 72456 fen) + 0 unpaid 0 fen" \
        in r.stdout, r.stdout
    assert read_csv(st, "payout-PP-2026-10-2.csv")[1:] == [
        ["payout", "PP-2026-10-2", pb, acct_b, "1", "30000", "2026-10"],
        ["control", "PP-2026-10-2", "", "", "1", "30000", "2026-10"]]
    assert read_csv(st, "payout-PP-2026-10-1.csv") == batch1
    assert read_csv(st, "unpaid-persons-2026-10.csv")[1:] == [["control", "", "0", "0",
                                                              "2026-10"]]
    close(st, "2026-10")
    assert psql(batches) == "2|2|72456"
    assert len(person_files(st, "2026-10")) == 4
    # a payment of October the ledger applies after the close is carried
    # into the next open month: October reconciles with it carried out and
    # pays nothing more
    pay(st, ka, pa, med, 222, at_ms(2026, 10, 25))
    wait_for(lambda: psql("SELECT count FROM settlement_person_carried WHERE grain = 'month' AND "
                          "from_period = '2026-10' AND person_id = '%s'" % pa) == "1",
             what="the late payment to be carried out of October")
    r = close(st, "2026-10")
    assert "ok   PERSONS" in r.stdout and "carried out 1 (222 fen), ledger 5 (72678 fen)" \
        in r.stdout, r.stdout
    assert psql(batches) == "2|2|72456"
    # the database refuses to pay a person twice or change what is owed
    with pytest.raises(subprocess.CalledProcessError):
        psql("UPDATE settlement_person_payouts SET batch_id = NULL, bank_account = NULL WHERE "
             "period = '2026-10' AND person_id = '%s'" % pa)
    with pytest.raises(subprocess.CalledProcessError):
        psql("UPDATE settlement_person_payouts SET total_fen = total_fen + 1, fen = fen + 1 "
             "WHERE period = '2026-10' AND person_id = '%s'" % pa)


def test_person_reconcile_difference_stops_the_payout(st):
    pc, pd = person(st, "C"), person(st, "D")
    item = "S-CASH-" + st["run"]
    for p in (pc, pd):
        settlement(st, "person-account", p, "6222%s00000003" % st["run"], check=0)
    kc, kd = card(st), card(st)
    pay(st, kd, pd, item, 5000, at_ms(2026, 11, 12))
    payment_posting(st, kc, pc, item, 777, at_ms(2026, 11, 10))
    r = close(st, "2026-11", check=1)
    diff = [x for x in r.stdout.splitlines() if x.strip().startswith("DIFF")]
    assert any(pc in x and "payments 1 (777 fen)" in x and "ledger 0 (0 fen)" in x
               for x in diff), r.stdout
    assert not any(pd in x for x in diff), r.stdout
    assert person_files(st, "2026-11") == []
    assert not os.path.exists(os.path.join(st["out"], "unpaid-persons-2026-11.csv"))
    psql = st["stack"].psql
    assert psql("SELECT stage FROM settlement_closes WHERE period = '2026-11'") == "mismatch"
    assert psql("SELECT person_id, ok FROM settlement_person_reconciliations WHERE period = "
                "'2026-11' AND person_id IN ('%s', '%s') ORDER BY ok" % (pc, pd)) == \
        "%s|f\n%s|t" % (pc, pd)
    assert psql("SELECT count(*) FROM settlement_person_batches WHERE period = '2026-11'") == "0"
    close(st, "2026-11", check=1)


def test_statements_and_payouts_balance_per_fund_share(st):
    """A top-up of three fund shares (seed 002), two swipes of odd amounts
    in February, the second reversed: the ledger splits them per fund, the
    statement has a line per fund equal to the ledger's payable lines of
    that fund, the close reconciles per fund, and the payout file carries
    the amount per fund level, summing to the total."""
    from test_items import split
    stack, psql = st["stack"], st["stack"].psql
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    shares = [("central", 5420), ("provincial", 2692), ("municipal", 1888)]
    for fund, _ in shares:
        subprocess.run([os.path.join(BUILD, "bin", "onecard-ledger"), "allocate", "--fund", fund,
                        "--year", "2026", "--amount-fen", "100000000", "--ref",
                        "sh-%s-%s" % (fund, st["run"])],
                       env=env, check=True, capture_output=True, timeout=60)
    prov, k = provider(st, "F"), card(st)
    grant, a1, a2 = 12345, 3333, 1001
    produce(st, ["topup %s rehab %s %s - 2026-02 %d %s"
                 % (k, st["item"], ",".join("%s:%d" % s for s in shares), grant,
                    uuid.uuid4().hex)])
    wait_for(lambda: psql("SELECT count(*) FROM ledger_entries WHERE card_no = '%s'" % k) == "1",
             what="the top-up in the ledger")
    ids = produce(st, [swipe(st, k, prov, a1, at_ms(2026, 2, 3)),
                       swipe(st, k, prov, a2, at_ms(2026, 2, 4))])
    produce(st, ["reversal %s rehab %s %s %s %d %d %s" % (k, prov, st["item"], st["fund"], a2,
                                                          at_ms(2026, 2, 5), ids[1])])
    topup = split(grant, shares)
    s1 = split(a1, [(f, topup[f]) for f, _ in shares])
    s2 = split(a2, [(f, topup[f] - s1.get(f, 0)) for f, _ in shares])
    spent = {f: s1.get(f, 0) for f, _ in shares}  # the reversal gives s2 back

    def ledger_payable():
        rows = psql("SELECT fund, payable_fen FROM ledger_v1_provider_fund_totals(%d, %d) WHERE "
                    "provider_id = '%s'" % (at_ms(2026, 2, 1, 0), at_ms(2026, 3, 1, 0), prov))
        return {r.split("|")[0]: int(r.split("|")[1]) for r in rows.splitlines()}
    wait_for(lambda: ledger_payable() == spent, what="the swipes per fund in the ledger")
    rev = psql("SELECT string_agg(coalesce(l.fund, '') || ':' || l.amount_fen, ',' ORDER BY "
               "l.fund) FROM ledger_entries e JOIN ledger_lines l USING (entry_id) JOIN "
               "ledger_accounts a USING (account_id) WHERE e.kind = 'reversal' AND e.card_no = "
               "'%s' AND a.kind = 'payable'" % k)
    assert rev == ",".join("%s:%d" % (f, v) for f, v in sorted(s2.items())), (rev, s2)

    r = close(st, "2026-02")
    assert "DIFF" not in r.stdout, r.stdout
    for f, v in spent.items():
        assert any(prov in x and "fund %-12s statement %d, postings %d, ledger payable %d"
                   % (f, v, v, v) in x and x.strip().startswith("ok")
                   for x in r.stdout.splitlines()), (f, r.stdout)
    s = statement_of(st, "2026-02", prov)
    assert (s["swipes"], s["amount"], s["reversals"], s["reversed"], s["total"]) == \
        (2, a1 + a2, 1, a2, a1), s
    lines = psql("SELECT fund_source, swipes, amount_fen, reversals, reversed_fen FROM "
                 "settlement_statement_lines WHERE statement_id = '%s' ORDER BY fund_source"
                 % s["id"]).splitlines()
    per_fund = {x.split("|")[0]: [int(v) for v in x.split("|")[1:]] for x in lines}
    assert set(per_fund) == set(spent), per_fund
    assert sum(v[0] for v in per_fund.values()) == 2 and \
        sum(v[2] for v in per_fund.values()) == 1, per_fund  # each swipe counted once
    for f in spent:
        assert per_fund[f][1] == s1.get(f, 0) + s2.get(f, 0) and per_fund[f][3] == s2.get(f, 0)
    # the payout file: the total and what each level pays of it
    [name] = payout_files(st, "2026-02")
    body = read_csv(st, name)
    assert body[0][7:] == ["central_fen", "provincial_fen", "municipal_fen", "district_fen",
                           "other_fen"], body[0]
    [row] = [x for x in body if x[0] == "payout" and x[3] == prov]
    assert int(row[5]) == a1 and [int(v) for v in row[7:]] == \
        [spent["central"], spent["provincial"], spent["municipal"], 0, 0], row
    for x in body:
        if x[0] in ("payout", "control"):
            assert int(x[5]) == sum(int(v) for v in x[7:]), x
