"""The year-end report (`onecard-ledger report`) against the real stack.

A year of its own (a random far year, so no other test's money is in it):
allocations to the four fund levels and to two programme budgets, two
months of top-ups split by fund shares, swipes in two quarters and a
reversal; then the report: per fund level the
allocated, granted and spent equal the ledger's lines to the fen, the
person-times equal the swipes approved minus reversed,
the children of the R0x item are counted, JSON, CSV and HTML are written
and the HTML has no script and no http(s) URL; with the ledger stopped and
a swipe of June produced, the year's and the second quarter's reports say
they are incomplete and exit 1 while the first quarter's is OK;
once the ledger has caught up it is OK again and `reconcile` is OK.
"""
import csv
import datetime
import json
import os
import random
import re
import signal
import time

import pytest

from conftest import BUILD
from gateway_client import luhn_complete
from test_ledger import ledger, ledger_caught_up, ledger_pid, produce, restart_ledger, wait_for

LEVELS = ["central", "provincial", "municipal", "district"]
SHARES = "central:5000,provincial:2500,municipal:1500,district:1000"
TZ = datetime.timezone(datetime.timedelta(hours=8))


def at_ms(y, m, d, hh=12):
    return int(datetime.datetime(y, m, d, hh, tzinfo=TZ).timestamp() * 1000)


@pytest.fixture(scope="module")
def ye(stack, tmp_path_factory):
    run = "%06d" % random.randrange(10 ** 6)
    year = random.randrange(2200, 9000)
    d = {"stack": stack, "run": run, "year": year, "prefix": "6277" + run,
         "child": "R01-Y" + run, "adult": "T-Y" + run,
         "prog_r": "rehab-y" + run, "prog_t": "train-y" + run,
         "provider": "PY" + run, "out": str(tmp_path_factory.mktemp("yearend"))}
    d["alloc"] = {lvl: 10 ** 8 + i * 1000 + 7 for i, lvl in enumerate(LEVELS)}
    for lvl in LEVELS:
        ledger(stack, "allocate", "--fund", lvl, "--year", str(year), "--amount-fen",
               str(d["alloc"][lvl]), "--ref", "ye-%s-%s" % (run, lvl))
    for prog in (d["prog_r"], d["prog_t"]):
        ledger(stack, "allocate", "--programme", prog, "--year", str(year), "--amount-fen",
               str(10 ** 8), "--ref", "ye-%s-%s" % (run, prog))
    return d


def card(d, n):
    return luhn_complete(d["prefix"] + "%07d" % n)


def report(d, *args):
    return ledger(d["stack"], "report", "--year", str(d["year"]), *args, check=False)


def test_year_end_report_equals_the_ledger(ye):
    d, y, stack = ye, ye["year"], ye["stack"]
    a, b, c = card(d, 1), card(d, 2), card(d, 3)
    # two months of top-ups, split by the shares (odd amounts: the odd fen)
    topups = [(a, d["child"], d["prog_r"], "%d-01" % y, 100001),
              (a, d["child"], d["prog_r"], "%d-02" % y, 100001),
              (b, d["child"], d["prog_r"], "%d-01" % y, 60007),
              (c, d["adult"], d["prog_t"], "%d-02" % y, 50003)]
    produce(stack, ["topup %s %s %s %s %s %s %d tu-%s-%d" % (
        cd, item, item, SHARES, prog, period, fen, d["run"], i)
        for i, (cd, item, prog, period, fen) in enumerate(topups)])
    wait_for(lambda: ledger_caught_up(stack), 60, "the top-ups journaled")
    # swipes in Q1 and Q2; one Q1 swipe reversed
    swipes = [(a, d["child"], 12345, at_ms(y, 2, 10)), (a, d["child"], 20001, at_ms(y, 3, 3)),
              (b, d["child"], 777, at_ms(y, 3, 20)), (a, d["child"], 3003, at_ms(y, 4, 2)),
              (c, d["adult"], 4999, at_ms(y, 5, 5))]
    ids = produce(stack, ["swipe-at %s %s %s %s central %d %d" % (
        cd, item, d["provider"], item, fen, ms) for cd, item, fen, ms in swipes])
    ids = [json.loads(x)["event_id"] for x in ids.stdout.splitlines()]
    wait_for(lambda: ledger_caught_up(stack), 60, "the swipes journaled")
    produce(stack, ["reversal %s %s %s %s central %d %d %s" % (
        a, d["child"], d["provider"], d["child"], 20001, at_ms(y, 3, 4), ids[1])])
    wait_for(lambda: ledger_caught_up(stack), 60, "the reversal journaled")

    r = report(d, "--format", "json,csv,html,text", "--out", d["out"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "report: OK" in r.stdout, r.stdout
    print("\n" + r.stdout.splitlines()[-1])  # the time, for the figures
    stem = os.path.join(d["out"], "yearend-%d" % y)
    doc = json.load(open(stem + ".json"))
    assert doc["status"] == "OK" and doc["differences"] == 0 and doc["unjournaled"] == 0
    assert all(c["ok"] for c in doc["reconciliation"]), doc["reconciliation"]

    # per fund level, the ledger's own lines (psql, not the report's code)
    def per_fund(sql):
        rows = stack.psql(sql)
        return {f: int(v) for f, v in (x.split("|") for x in rows.splitlines() if x)}
    cards = "'%s','%s','%s'" % (a, b, c)
    granted = per_fund("SELECT l.fund, -sum(l.amount_fen) FROM ledger_entries e JOIN "
                       "ledger_lines l USING (entry_id) JOIN ledger_accounts x USING "
                       "(account_id) WHERE e.kind IN ('topup','payment') AND x.kind IN "
                       "('wallet','payee') AND e.card_no IN (%s) GROUP BY 1" % cards)
    spent = per_fund("SELECT l.fund, -sum(l.amount_fen) FROM ledger_entries e JOIN ledger_lines l USING "
                     "(entry_id) JOIN ledger_accounts x USING (account_id) WHERE x.kind IN "
                     "('payable','payee') AND e.card_no IN (%s) GROUP BY 1" % cards)
    balance = per_fund("SELECT fund_source, -balance_fen FROM ledger_accounts WHERE kind = "
                       "'fund' AND year = %d" % y)
    funds = {row["fund"]: row for row in doc["tables"]["funds"] if not row["total"]}
    assert set(funds) == set(LEVELS), funds
    assert sum(granted.values()) == 100001 * 2 + 60007 + 50003
    assert sum(spent.values()) == 12345 + 777 + 3003 + 4999
    for lvl in LEVELS:
        f = funds[lvl]
        assert f["allocated"] == d["alloc"][lvl], (lvl, f)
        assert f["granted"] == granted.get(lvl, 0), (lvl, f, granted)
        assert f["spent"] == spent.get(lvl, 0), (lvl, f, spent)
        assert f["lapsed"] == f["returned"] == f["recovered"] == 0
        assert f["remaining"] == balance[lvl] == f["allocated"] - f["granted"], (lvl, f)
        assert f["outstanding"] == f["granted"] - f["spent"]
    total = doc["tables"]["funds"][-1]
    assert total["total"] and total["spent"] == sum(spent.values())

    # person-times: swipes approved minus reversed
    items = {row["item"]: row for row in doc["tables"]["items"] if not row["total"]}
    ch = items[d["child"]]
    assert (ch["q1_times"], ch["q2_times"], ch["year_times"]) == (2, 1, 3), ch
    assert ch["year_fen"] == 12345 + 777 + 3003 and ch["programme"] == d["prog_r"]
    assert (ch["q1_persons"], ch["year_persons"]) == (2, 2), ch
    ad = items[d["adult"]]
    assert (ad["q1_times"], ad["q2_times"], ad["year_times"]) == (0, 1, 1), ad
    assert ad["year_fen"] == 4999 and ad["programme"] == d["prog_t"]
    kids = [row for row in doc["tables"]["children"] if not row["total"]]
    assert [k["item"] for k in kids] == [d["child"]], kids
    assert kids[0]["year_persons"] == 2

    # one CSV per table, the HTML printable and self-contained
    for t in ("funds", "programmes", "budgets", "items", "children", "reconciliation"):
        with open("%s-%s.csv" % (stem, t), newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, t
    fcsv = {r["fund"]: r for r in csv.DictReader(open(stem + "-funds.csv", encoding="utf-8"))}
    assert int(fcsv["central"]["spent"]) == funds["central"]["spent"]
    html = open(stem + ".html", encoding="utf-8").read()
    assert "<script" not in html.lower()
    assert not re.search(r"https?:", html, re.I)
    assert "按资金级别" in html and "@media print" in html and "@page" in html
    assert "%d年度" % y in html


def test_report_with_an_unjournaled_event_says_so(ye):
    d, y, stack = ye, ye["year"], ye["stack"]
    wait_for(lambda: ledger_caught_up(stack), 60, "the ledger to catch up")
    os.kill(ledger_pid(stack), signal.SIGTERM)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            os.kill(ledger_pid(stack), 0)
            time.sleep(0.2)
        except (ProcessLookupError, FileNotFoundError, ValueError):
            break
    try:
        produce(stack, ["swipe-at %s %s %s %s central 100 %d" % (
            card(d, 1), d["child"], d["provider"], d["child"], at_ms(y, 6, 1))])
        r = report(d)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "INCOMPLETE" in r.stdout and "not yet journaled" in r.stdout, r.stdout
        j = report(d, "--format", "json")
        assert j.returncode == 1
        assert json.loads(j.stdout)["status"] == "INCOMPLETE"
        # the unread swipe is of June: the first quarter is complete
        q1 = report(d, "--quarter", "1")
        assert q1.returncode == 0 and "report: OK" in q1.stdout, q1.stdout + q1.stderr
        q2 = report(d, "--quarter", "2")
        assert q2.returncode == 1 and "INCOMPLETE" in q2.stdout, q2.stdout + q2.stderr
    finally:
        restart_ledger(stack)
    wait_for(lambda: ledger_caught_up(stack), 90, "the ledger to catch up")
    r = report(d, "--quarter", "2")
    assert r.returncode == 0 and "report: OK" in r.stdout, r.stdout + r.stderr
    # the synthetic swipes bypassed the gateway's holds: the cache is rebuilt
    # from the ledger for these cards, as an operator would, then reconcile
    ledger(stack, "rebuild-cache", "--card-prefix", d["prefix"])
    rc = ledger(stack, "reconcile", "--card-prefix", d["prefix"], check=False)
    assert rc.returncode == 0 and "reconcile: OK" in rc.stdout, rc.stdout + rc.stderr


def test_bad_usage_is_refused(ye):
    for args in (["--year", "19"], ["--year", "2026", "--quarter", "5"],
                 ["--year", "2026", "--format", "csv"], ["--year", "2026", "--format", "pdf"],
                 ["--year", "2026", "--out", "/nonexistent/dir", "--format", "json"]):
        r = ledger(ye["stack"], "report", *args, check=False)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
