"""The eligibility service against the real stack: the catalogue loads
once; bad input is refused with its row number and reason while the rest is
imported, and nothing twice; a person list saved by Excel in GBK with
Chinese headers and a wrapped cell is imported with --encoding gbk, and
without it refused by the line of its first GBK byte, nothing imported; a
2,848-person synthetic district is issued for a period in under 10 s,
credited through the ledger, and a re-run issues nothing; a death from
civil affairs freezes the card so that the next swipe is declined (the
latency is printed); a grade change re-tiers and a household change starts
the living subsidy from its effective date; a provider suspended the way
the rating service does it is declined at once; the directory is rebuilt
from PostgreSQL; a death reported in advance takes effect on its day. A
lost card is replaced and its balances follow to the fen (also what reaches
the old card later, also when the carry-over waits for the old card's
swipes or is read after the new card's own), a card the feed stopped
restarts with its holder, a change reported after its month was issued
corrects that month, and a top-up refused as over budget is published again
once the budget is there.
"""
import datetime
import json
import os
import random
import subprocess
import threading
import time

import pytest

from conftest import BUILD, kcat
from gateway_client import Terminal

os.environ.setdefault("ONECARD_BUILD", BUILD)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CATALOGUE = os.path.join(REPO, "services", "eligibility", "catalogue", "catalogue-2026.tsv")
PERIOD = "2026-11"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def national_id(birth, seq):
    """A valid 18-character national id (GB 11643 check character)."""
    body = "110105%s%03d" % (birth.replace("-", ""), seq % 1000)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def tool(stack, binary, args, check, timeout):
    """Runs one of the stack's commands with the stack's environment."""
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    r = subprocess.run([os.path.join(BUILD, "bin", binary)] + list(args), env=env,
                       capture_output=True, text=True, timeout=timeout)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def elig(stack, *args, check=True, timeout=300):
    return tool(stack, "onecard-eligibility", args, check, timeout)


def ledger(stack, *args, check=True):
    return tool(stack, "onecard-ledger", args, check, 120)


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail("timed out waiting for " + what)


def card_tag(card):
    h = 0x811C9DC5
    for b in card.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "%08x" % h


def redis(stack, *args):
    return subprocess.run(["redis-cli", "-p", str(stack.redis_port)] + list(args),
                          capture_output=True, text=True, check=True).stdout.strip()


def wallet(stack, card, w):
    return int(redis(stack, "HGET", "wallet:{c:%s}:%s" % (card_tag(card), card), w) or 0)


def catalogue_items():
    """The catalogue file's items, each a dict by the header's column names."""
    items, header = [], None
    with open(CATALOGUE, encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if c[0] == "tier":
                break  # the tier tables follow the items
            if line.startswith("#") or len(c) < 14:
                continue
            if c[0] == "code":
                header = c
                continue
            items.append(dict(zip(header, c)))
    return items


def catalogue_funds():
    """The fund levels the catalogue's items draw on (their fund_source
    column is a list of shares, "central:5420,provincial:2692,...")."""
    return {share.split(":")[0] for it in catalogue_items()
            for share in it["fund_source"].split(",")}


def approve_items(el, pid, items, village="湖贝社区", town="东门街道", district="罗湖区"):
    """Items the catalogue grants only by application, granted the real way:
    an application through its three levels, by three operators of the
    person's area (made once per area and run)."""
    stack = el["stack"]
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    sessions = el.setdefault("sessions", {})
    for role, area in (("village", village), ("town", town), ("district", district)):
        if (role, area) in sessions:
            continue
        oid = "%s%d-%s" % (role[0], len(sessions), el["run"])
        for cmd in (["operator", "add", oid, "--role", role, "--area", area, "--actor", "test"],
                    ["operator", "login", oid]):
            r = subprocess.run([os.path.join(BUILD, "bin", "onecard-eligibility")] + cmd,
                               input="e2e password 1234\n", env=env, capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 0, r.stderr
        sessions[(role, area)] = r.stdout.split()[1]
    app = elig(stack, "application", "submit", pid, "--items", ",".join(items),
               "--actor", "test").stdout.split()[1].rstrip(":")
    for role, area in (("village", village), ("town", town), ("district", district)):
        elig(stack, "application", "decide", app, "--decision", "pass", "--session",
             sessions[(role, area)])
    return app


def payee_money(stack, pid, item=None):
    """What the ledger has paid into the person's own account, in fen (for
    one item: the payments of that item)."""
    if item:
        return int(stack.psql("SELECT coalesce(sum(amount_fen), 0) FROM ledger_entries WHERE "
                              "kind = 'payment' AND person_id = '%s' AND item_code = '%s'"
                              % (pid, item)))
    return int(stack.psql("SELECT coalesce(-sum(balance_fen), 0) FROM ledger_accounts WHERE "
                          "kind = 'payee' AND person_id = '%s'" % pid) or 0)


@pytest.fixture(scope="module")
def el(stack):
    r = elig(stack, "catalogue", "load", CATALOGUE, "--actor", "test")
    assert "39 items" in r.stdout
    # every fund and programme of the catalogue gets a 2026 budget, as the demo does
    funds = catalogue_funds()
    progs = {it["programme"] for it in catalogue_items()}
    for fund in funds:
        ledger(stack, "allocate", "--fund", fund, "--year", "2026", "--amount-fen",
               "100000000000", "--ref", "e2e-f-" + fund)
    for prog in progs:
        ledger(stack, "allocate", "--programme", prog, "--year", "2026", "--amount-fen",
               "10000000000", "--ref", "e2e-p-" + prog)
    run = "%04d" % random.randrange(10 ** 4)
    elig(stack, "provider", "add", "PE" + run, "--name", "罗湖区康复中心", "--district", "罗湖区",
         "--category", "rehabilitation", "--items", "R01-LIMB,R07-DEVICES,S01-CARE,S02-LIVING",
         "--actor", "test")
    out = elig(stack, "terminal", "add", "TE" + run, "--provider", "PE" + run,
               "--actor", "test").stdout
    secret = out.split("secret ")[1].split()[0]
    time.sleep(2.5)  # the gateway's directory refresh
    return {"stack": stack, "run": run, "provider": "PE" + run,
            "terminal": Terminal(stack.gateway_port, "TE" + run, secret), "seq": 0}


def person(el, category="limb", grade=1, care=3, household="none", birth="1980-05-01"):
    """Registers a person since 2026-01-01 and issues a card with PIN 123456."""
    el["seq"] += 1
    nid = national_id(birth, int(el["run"]) * 10 + el["seq"])
    out = elig(el["stack"], "person", "add", "--national-id", nid, "--name", "测试",
               "--category", category, "--grade", str(grade), "--care-level", str(care),
               "--birth", birth, "--district", "罗湖区", "--town", "东门街道",
               "--village", "湖贝社区", "--household", household, "--since", "2026-01-01",
               "--actor", "test").stdout
    pid = out.split()[1]
    card = elig(el["stack"], "card", "issue", pid, "--pin", "123456",
                "--actor", "test").stdout.split()[1]
    return nid, pid, card


def test_catalogue_reload_changes_nothing_and_a_bad_file_nothing_at_all(el, tmp_path):
    stack = el["stack"]
    before = stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_catalogue_items'")
    r = elig(stack, "catalogue", "load", CATALOGUE, "--actor", "test")
    assert "0 changed" in r.stdout
    with open(CATALOGUE, encoding="utf-8") as f:
        text = f.read()
    bad = tmp_path / "bad.tsv"
    bad.write_text(text.replace("\t101000\tcare\t", "\t-5\tcare\t"), encoding="utf-8")
    r = elig(stack, "catalogue", "load", str(bad), "--actor", "test", check=False)
    assert r.returncode == 1 and "line 34: S01-CARE: standard_fen" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_catalogue_items'") == \
        before
    assert stack.psql("SELECT standard_fen FROM elig_catalogue_items WHERE code = "
                      "'S01-CARE'") == "101000"
    # fund shares that do not sum to 10,000 (seed 002): refused naming the
    # item, nothing loaded
    shares = "central:5420,provincial:2692,municipal:1888"
    assert shares in text
    bad.write_text(text.replace("\t101000\tcare\t", "\t99900\tcare\t").replace(
        shares, "central:5420,provincial:2692,municipal:1887", 1), encoding="utf-8")
    r = elig(stack, "catalogue", "load", str(bad), "--actor", "test", check=False)
    assert r.returncode == 1 and "R02-AUTISM: fund_source: fund shares sum to 9999 basis " \
        "points, not 10000" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_catalogue_items'") == \
        before
    assert stack.psql("SELECT standard_fen FROM elig_catalogue_items WHERE code = "
                      "'S01-CARE'") == "101000"
    assert stack.psql("SELECT fund_source || ' ' || fund_shares FROM elig_catalogue_items "
                      "WHERE code = 'R02-AUTISM'") == "central " + shares


def test_bad_rows_are_refused_by_number_and_the_rest_imported_once(el, tmp_path):
    stack = el["stack"]
    good1, good2 = national_id("1990-01-02", 901), national_id("2015-03-04", 902)
    bad_sum = good1[:-1] + ("0" if good1[-1] != "0" else "1")
    rows = [
        "national_id,name,category,grade,care_level,birth_date,district,town,village,"
        "household,phone",
        "%s,甲,limb,2,1,1990-01-02,罗湖区,东门街道,湖贝社区,dibao," % good1,
        "%s,乙,limb,2,1,1990-01-02,罗湖区,东门街道,湖贝社区,none," % bad_sum,
        "%s,丙,limb,7,1,1990-01-02,罗湖区,东门街道,湖贝社区,none," % national_id("1990-01-02", 903),
        "%s,丁,wings,2,1,1990-01-02,罗湖区,东门街道,湖贝社区,none," % national_id("1990-01-02", 904),
        "%s,\"戊,己,limb,2,1,1990-01-02,罗湖区,东门街道,湖贝社区,none," % national_id("1990-01-02", 905),
        "%s,庚,limb,2,1,2099-01-02,罗湖区,东门街道,湖贝社区,none," % national_id("2099-01-02", 906),
        "%s,辛,hearing,3,0,2015-03-04,罗湖区,东门街道,湖贝社区,near-poor,13800000000" % good2,
    ]
    f = tmp_path / "persons.csv"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = elig(stack, "import", "persons", str(f), "--since", "2026-01-01", "--issue-cards", "yes",
             "--pin", "123456", "--actor", "test", check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    err = r.stderr
    assert "row 3: national_id: national id check character" in err, err
    assert "row 4: grade \"7\" is not 1-4" in err, err
    assert "row 5: unknown category \"wings\"" in err, err
    assert "row 6: field 2: unterminated quote" in err, err
    assert "row 7: " in err and ("birth_date" in err or "national id" in err), err
    assert "2 imported, 2 new" in r.stdout, r.stdout
    again = elig(stack, "import", "persons", str(f), "--since", "2026-01-01", "--issue-cards",
                 "yes", "--pin", "123456", "--actor", "test", check=False)
    assert "0 new, 2 already registered" in again.stdout, again.stdout
    # never the national id in clear, a name only in the restricted table
    assert stack.psql("SELECT count(*) FROM elig_persons WHERE person_id LIKE '%%%s%%'"
                      % good1[:10]) == "0"
    assert stack.psql("SELECT count(*) FROM elig_cards c JOIN elig_persons p USING (person_id) "
                      "WHERE p.birth_date = '2015-03-04' AND p.household = 'near-poor'") >= "1"
    # one card in use per person
    pid = stack.psql("SELECT person_id FROM elig_persons WHERE birth_date = '2015-03-04' AND "
                     "household = 'near-poor' LIMIT 1")
    r = elig(stack, "card", "issue", pid, "--actor", "test", check=False)
    assert r.returncode == 1 and "already holds a card in use" in r.stderr


def test_a_gbk_list_with_chinese_headers_and_a_wrapped_cell_is_imported(el, tmp_path):
    """As Excel saves "CSV" on a Chinese Windows: GBK, CRLF, the headers in
    Chinese (村（社区） with full-width parentheses), and a village cell
    wrapped over two lines that holds a comma."""
    stack, run = el["stack"], el["run"]
    a, b = national_id("1985-07-08", int(run)), national_id("1992-09-10", int(run))
    text = ("身份证号,姓名,残疾类别,残疾等级,护理等级,出生日期,区县,街道,村（社区）,低保情况,联系电话\r\n"
            "%s,张三,limb,2,1,1985-07-08,罗湖区,东门街道,\"湖贝社区,\r\n东区%s\",dibao,\r\n"
            "%s,李四,visual,3,0,1992-09-10,罗湖区,东门街道,湖贝社区%s,none,13800000000\r\n"
            % (a, run, b, run))
    f = tmp_path / "persons-gbk.csv"
    f.write_bytes(text.encode("gbk"))
    r = elig(stack, "import", "persons", str(f), "--since", "2026-01-01", "--encoding", "gbk",
             "--actor", "test")
    assert "2 rows, 2 imported, 2 new" in r.stdout, r.stdout + r.stderr
    # the wrapped cell is one line, its comma kept
    assert stack.psql("SELECT count(*) FROM elig_persons p JOIN elig_person_private q USING "
                      "(person_id) WHERE p.village = '湖贝社区, 东区%s' AND q.name = '张三' AND "
                      "p.household = 'dibao' AND p.grade = 2 AND p.birth_date = '1985-07-08'"
                      % run) == "1"
    assert stack.psql("SELECT count(*) FROM elig_persons p JOIN elig_person_private q USING "
                      "(person_id) WHERE p.village = '湖贝社区%s' AND q.name = '李四' AND "
                      "q.phone = '13800000000' AND p.category = 'visual'" % run) == "1"


def test_a_list_not_in_utf8_is_refused_by_line_and_nothing_imported(el, tmp_path):
    """A GBK file imported without --encoding: refused as a whole, the
    message naming the line of the first GBK byte (line 3: line 2 is all
    ASCII and would have been a good row) and the option to use."""
    stack, run = el["stack"], el["run"]
    a, b = national_id("1987-03-04", int(run)), national_id("1994-05-06", int(run))
    rows = [
        "national_id,name,category,grade,care_level,birth_date,district,town,village,"
        "household,phone",
        "%s,Wang,limb,2,1,1987-03-04,Luohu,Dongmen,GBK-%s,none," % (a, run),
        "%s,王五,limb,2,1,1994-05-06,Luohu,Dongmen,GBK-%s,none," % (b, run),
    ]
    f = tmp_path / "persons-gbk-undeclared.csv"
    f.write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    r = elig(stack, "import", "persons", str(f), "--since", "2026-01-01", "--actor", "test",
             check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "line 3: byte 0xCD is not UTF-8" in r.stderr, r.stderr
    assert "--encoding gbk" in r.stderr, r.stderr
    assert "0 imported" in r.stdout, r.stdout
    assert stack.psql("SELECT count(*) FROM elig_persons WHERE village = 'GBK-%s'" % run) == "0"
    # declared, the same file is imported whole
    r = elig(stack, "import", "persons", str(f), "--since", "2026-01-01", "--encoding", "gbk",
             "--actor", "test")
    assert "2 imported, 2 new" in r.stdout, r.stdout + r.stderr
    assert stack.psql("SELECT count(*) FROM elig_persons WHERE village = 'GBK-%s'" % run) == "2"


def test_district_is_issued_in_under_10_s_credited_once_through_the_ledger(el, tmp_path):
    stack = el["stack"]
    elig(stack, "synth", "--persons", "2848", "--providers", "40", "--seed", "5",
         "--out", str(tmp_path))
    r = elig(stack, "import", "providers", str(tmp_path / "providers.csv"), "--actor", "test")
    assert "40 new" in r.stdout, r.stdout
    r = elig(stack, "import", "persons", str(tmp_path / "persons.csv"), "--since", "2026-01-01",
             "--issue-cards", "yes", "--pin", "123456", "--actor", "test")
    assert "2848 imported, 2848 new" in r.stdout, r.stdout
    t0 = time.time()
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    took = time.time() - t0
    first = r.stdout.splitlines()[0]
    print("\n[eligibility] %s (wall %.2f s)" % (first, took))
    assert took < 10, first
    issued = int(stack.psql("SELECT count(*) FROM elig_issuances WHERE period = '%s'" % PERIOD))
    total = int(stack.psql("SELECT sum(amount_fen) FROM elig_issuances WHERE period = '%s'"
                           % PERIOD))
    assert issued > 2848, first
    # the ledger applies every one of them (budgets were allocated first)
    # (cash items: a payment into the person's own account, not a top-up)
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_entries e JOIN elig_issuances i "
                                "ON i.topup_id = e.request_id WHERE e.kind IN ('topup', "
                                "'payment') AND i.period = '%s'" % PERIOD) == str(issued), 120,
             "the ledger to apply the top-ups")
    assert stack.psql("SELECT count(*) FROM ledger_rejections j JOIN elig_issuances i ON "
                      "j.event_id = 'issue-' || i.topup_id") == "0"
    assert int(stack.psql("SELECT sum(e.amount_fen) FROM ledger_entries e JOIN elig_issuances i "
                          "ON i.topup_id = e.request_id WHERE e.kind IN ('topup', "
                          "'payment') AND i.period = '%s'" % PERIOD)) == total
    # a card's hot balance is the sum of its issuances
    # the largest credit on a card (cash items are paid to the person)
    card, w, amount = stack.psql(
        "SELECT i.card_no, i.wallet, sum(i.amount_fen) FROM elig_issuances i JOIN "
        "elig_catalogue_items c ON c.code = i.item_code WHERE i.period = '%s' AND c.kind NOT IN "
        "('cash', 'reimburse') GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1" % PERIOD).split("|")
    wait_for(lambda: wallet(stack, card, w) == int(amount), 30, "the hot balance")
    # the re-run issues nothing
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert " 0 new, 0 published" in r.stdout, r.stdout
    time.sleep(2)
    assert stack.psql("SELECT count(*) FROM elig_issuances WHERE period = '%s'" % PERIOD) == \
        str(issued)
    assert stack.psql("SELECT count(*) FROM ledger_entries e JOIN elig_issuances i ON "
                      "i.topup_id = e.request_id WHERE e.kind IN ('topup', 'payment') AND "
                      "i.period = '%s'" % PERIOD) == str(issued)
    assert wallet(stack, card, w) == int(amount)


def test_death_freezes_the_card_and_the_next_swipe_is_declined(el, tmp_path):
    stack, t = el["stack"], el["terminal"]
    nid, pid, card = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, "R01-LIMB") == 150000, 30, "the limb rehabilitation credit")
    st, doc = t.swipe(card, 1000, item="R01-LIMB")
    assert doc["decision"] == "approved", doc
    feed = tmp_path / "deaths.csv"
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,death,2026-11-10,,\n" % nid)
    # swipes run from before the event is produced until the first decline;
    # the latency is from the broker's acknowledgement of the event (it is on
    # the topic then) to that decline
    declined = {}

    def swiper():
        term = Terminal(stack.gateway_port, t.id, t.secret)
        deadline = time.time() + 30
        while time.time() < deadline:
            st, d = term.swipe(card, 100, item="R01-LIMB")
            if d.get("decision") == "declined":
                declined.update(at=time.time(), doc=d)
                return
            time.sleep(0.01)

    th = threading.Thread(target=swiper)
    th.start()
    r = elig(stack, "import-feed", str(feed), "--source", "civil-affairs", "--period", PERIOD)
    assert "1 rows published" in r.stdout, r.stdout
    th.join()
    assert declined, "still approved 30 s after the death event"
    doc = declined["doc"]
    acked_ms = int(r.stdout.split("last acknowledged at ")[1].split()[0])
    out = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.eligibility.v1",
                          "-e", "-q", "-f", "%k %T\n"], capture_output=True, text=True).stdout
    created_ms = max(int(l.split()[1]) for l in out.splitlines() if l.startswith(pid))
    latency = declined["at"] - acked_ms / 1000.0
    print("\n[eligibility] death-to-decline: %.0f ms from the event acknowledged on "
          "onecard.eligibility.v1 to the first declined swipe (%.0f ms from the producer's "
          "timestamp, which includes the new producer's start-up)"
          % (latency * 1000, (declined["at"] - created_ms / 1000.0) * 1000))
    assert doc["reason"] == "card_frozen", doc
    assert latency < 1.0, latency
    assert stack.psql("SELECT status FROM elig_persons WHERE person_id = '%s'" % pid) == \
        "deceased"
    assert stack.psql("SELECT actor FROM elig_audit WHERE tbl = 'elig_cards' AND "
                      "after->>'card_no' = '%s' AND after->>'status' = 'frozen'" % card) == \
        "eligibility-feed"
    status = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.card-status.v1",
                             "-e", "-q", "-f", "%k\n"], capture_output=True, text=True).stdout
    assert card in status.split()
    # the same list again publishes nothing
    r = elig(stack, "import-feed", str(feed), "--source", "civil-affairs", "--period", PERIOD)
    assert "0 rows published, 1 already published" in r.stdout, r.stdout


def test_grade_and_household_changes_take_effect_from_their_dates(el, tmp_path):
    stack = el["stack"]
    nid, pid, card = person(el, category="limb", grade=2, care=3, household="none")
    feed = tmp_path / "changes.csv"
    # read in reverse order of effective date: the later one must still win
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,grade,2026-11-21,,1\n"
                    "%s,household,2026-11-16,dibao,\n" % (nid, nid))
    # (source, period, row) names a row of one agency's monthly list: this is another list
    r = elig(stack, "import-feed", str(feed), "--source", "federation", "--period", PERIOD)
    assert "2 rows published" in r.stdout, r.stdout
    wait_for(lambda: stack.psql("SELECT count(*) FROM elig_person_changes WHERE person_id = '%s'"
                                " AND source = 'federation'" % pid) == "2", 10, "the feed")
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    amounts = dict(tuple(l.split("|")) for l in stack.psql(
        "SELECT item_code, amount_fen FROM elig_issuances WHERE person_id = '%s' AND period = "
        "'%s'" % (pid, PERIOD)).splitlines())
    # care: 20 days at grade 2 (675 yuan) + 10 days at grade 1 (1,010 yuan), of 30
    assert int(amounts["S01-CARE"]) == (67500 * 20 + 101000 * 10) // 30, amounts
    # living subsidy from the 16th: 15 of 30 days of 409.50 yuan
    assert int(amounts["S02-LIVING"]) == 40950 * 15 // 30, amounts


def test_provider_suspended_by_the_rating_interface_is_declined_at_once(el):
    stack, t = el["stack"], el["terminal"]
    nid, pid, card = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, "R01-LIMB") > 0, 30, "the credit")
    assert t.swipe(card, 100, item="R01-LIMB")[1]["decision"] == "approved"
    r = elig(stack, "provider", "suspend", el["provider"], "--reason", "year-end satisfaction",
             "--actor", "rating-review")
    assert "suspended" in r.stdout
    assert redis(stack, "HGET", "prov:{p:%s}" % el["provider"], "status") == "suspended"
    wait_for(lambda: t.swipe(card, 100, item="R01-LIMB")[1].get("reason") ==
             "provider_suspended", 5, "provider_suspended")
    assert stack.psql("SELECT actor FROM elig_audit WHERE tbl = 'elig_providers' AND "
                      "after->>'status' = 'suspended' ORDER BY audit_id DESC LIMIT 1") == \
        "rating-review"
    ev = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.registry.v1", "-e",
                         "-q", "-f", "%k\n"], capture_output=True, text=True).stdout
    assert el["provider"] in ev.split()
    elig(stack, "provider", "reinstate", el["provider"], "--reason", "appeal upheld",
         "--actor", "test")
    wait_for(lambda: t.swipe(card, 100, item="R01-LIMB")[1]["decision"] == "approved", 5,
             "approval after reinstatement")
    r = elig(stack, "provider", "suspend", "NO-SUCH", "--reason", "x", "--actor", "rating-review",
             check=False)
    assert r.returncode == 1 and "no such provider" in r.stderr


def test_rebuild_directory_restores_what_the_gateway_reads(el):
    stack, t = el["stack"], el["terminal"]
    nid, pid, card = person(el)
    redis(stack, "DEL", "card:{c:%s}:%s" % (card_tag(card), card))
    st, doc = t.swipe(card, 100, item="R01-LIMB")
    assert doc.get("reason") == "card_unknown", doc
    r = elig(stack, "rebuild-directory")
    assert "directory rebuilt" in r.stdout
    assert redis(stack, "HGET", "card:{c:%s}:%s" % (card_tag(card), card), "status") == "active"
    assert redis(stack, "HEXISTS", "card:{c:%s}:%s" % (card_tag(card), card), "e:R01-LIMB") == "1"
    st, doc = t.swipe(card, 100, item="R01-LIMB")
    assert doc.get("reason") != "card_unknown", doc


def test_reset_pin_and_show_a_persons_history(el):
    stack, t = el["stack"], el["terminal"]
    nid, pid, card = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, "R01-LIMB") > 0, 30, "the credit")
    elig(stack, "card", "reset-pin", card, "--pin", "654321", "--actor", "service-desk")
    assert t.swipe(card, 100, item="R01-LIMB", pin="123456")[1].get("reason") == "pin_invalid"
    assert t.swipe(card, 100, item="R01-LIMB", pin="654321")[1]["decision"] == "approved"
    r = elig(stack, "card", "reset-pin", "6288100000000000", "--pin", "111111", "--actor", "x",
             check=False)
    assert r.returncode == 1 and "no such card in use" in r.stderr
    elig(stack, "person", "modify", pid, "--household", "dibao", "--effective", "2026-11-01",
         "--actor", "caseworker-7")
    out = elig(stack, "person", "show", pid).stdout
    assert "household=dibao" in out and "item_code=R01-LIMB" in out, out
    assert "actor=service-desk" in out and "actor=caseworker-7" in out, out
    assert "测试" not in out  # the name only with --private yes
    assert "name=测试" in elig(stack, "person", "show", pid, "--private", "yes").stdout
    js = json.loads(elig(stack, "person", "show", pid, "--format", "json").stdout)
    assert js["person_id"] == pid and js["person"][0]["household"] == "dibao", js
    assert any(c["value"] == "dibao" for c in js["changes"]) and "private" not in js, js
    r = elig(stack, "person", "show", pid, "--format", "xml", check=False)
    assert r.returncode == 2 and "xml" in r.stderr, r.stderr  # usage
    r = elig(stack, "person", "modify", pid, "--grade", "9", "--effective", "2026-11-01",
             "--actor", "x", check=False)
    assert r.returncode == 1 and "--grade" in r.stderr
    r = elig(stack, "person", "modify", pid, "--status", "deceased", "--effective", "2031-01-01",
             "--actor", "x", check=False)
    assert r.returncode == 1 and "more than a year in the future" in r.stderr


def test_a_death_reported_in_advance_takes_effect_on_its_day(el):
    """The feed's sweep: a change recorded before its effective date is
    applied when the day comes. The day is simulated by a change recorded
    two days ago that takes effect today (Asia/Shanghai)."""
    stack, t = el["stack"], el["terminal"]
    nid, pid, card = person(el)
    stack.psql("INSERT INTO elig_person_changes (person_id, attr, value, effective_from, "
               "event_id, source, recorded_at) VALUES ('%s', 'status', 'deceased', (now() AT "
               "TIME ZONE 'Asia/Shanghai')::date, 'e2e-advance-%s', 'civil-affairs', now() - "
               "interval '2 days')" % (pid, pid[:8]))
    assert stack.psql("SELECT status FROM elig_persons WHERE person_id = '%s'" % pid) == "active"
    wait_for(lambda: redis(stack, "HGET", "card:{c:%s}:%s" % (card_tag(card), card), "status")
             == "frozen", 75, "the sweep to freeze the card")
    assert stack.psql("SELECT status FROM elig_persons WHERE person_id = '%s'" % pid) == \
        "deceased"
    assert t.swipe(card, 100, item="R01-LIMB")[1].get("reason") == "card_frozen"


def test_provider_rows_with_unknown_items_are_refused(el, tmp_path):
    stack = el["stack"]
    f = tmp_path / "providers.csv"
    f.write_text("provider_id,name,district,category,items\n"
                 "PX%s1,好,罗湖区,rehabilitation,R01-LIMB;R07-DEVICES\n"
                 "PX%s2,坏,罗湖区,rehabilitation,R01-LIMB;Z99-NOPE\n"
                 "PX%s3,坏,罗湖区,cooking,R01-LIMB\n"
                 "bad id!,坏,罗湖区,rehabilitation,R01-LIMB\n" % ((el["run"],) * 3),
                 encoding="utf-8")
    r = elig(stack, "import", "providers", str(f), "--actor", "test", check=False)
    assert r.returncode == 1
    assert "row 3: unknown item code Z99-NOPE" in r.stderr, r.stderr
    assert "row 4: unknown category \"cooking\"" in r.stderr, r.stderr
    assert "row 5: provider_id \"bad id!\"" in r.stderr, r.stderr
    assert "1 imported, 1 new" in r.stdout, r.stdout
    assert redis(stack, "HGET", "prov:{p:PX%s1}" % el["run"], "items") == "R01-LIMB,R07-DEVICES"
    r = elig(stack, "provider", "designate", "PX%s1" % el["run"], "--items", "S01-CARE,NOPE",
             "--actor", "test", check=False)
    assert r.returncode == 1 and "unknown item code(s): NOPE" in r.stderr


def ledger_money(stack, card, w):
    """What the journal says the card's wallet holds (balances are credit-normal)."""
    v = stack.psql("SELECT -balance_fen FROM ledger_accounts WHERE kind = 'wallet' AND "
                   "card_no = '%s' AND wallet = '%s'" % (card, w))
    return int(v or 0)


def reconciled(stack, card):
    return "reconcile: OK" in ledger(stack, "reconcile", "--card-prefix", card,
                                     check=False).stdout


def test_a_replaced_card_carries_its_balance_over_to_the_fen(el):
    """Replacement of a lost card: the old card declines at once, the new one
    swipes with its own PIN, the journal and the hot balances move to the
    fen, cap usage follows, and what reaches the old card later (a reversal
    of one of its swipes) follows too. The carry-over is applied once even
    when it is sent again."""
    stack, t = el["stack"], el["terminal"]
    nid, pid, old = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, old, "R01-LIMB") == 150000, 30, "the limb rehabilitation credit")
    st, doc = t.swipe(old, 1000, item="R01-LIMB")
    assert doc["decision"] == "approved", doc
    st, doc = t.swipe(old, 12345, item="R01-LIMB")
    assert doc["decision"] == "approved", doc
    late = doc["swipe_id"]
    caps_old = redis(stack, "HGET", "caps:{c:%s}:%s" % (card_tag(old), old), "y:R01-LIMB")
    t0 = time.time()
    r = elig(stack, "card", "replace", old, "--reason", "lost", "--pin", "654321", "--actor",
             "service-desk")
    new = r.stdout.split("replaced by card ")[1].split()[0]
    assert "carry-over: sent" in r.stdout, r.stdout
    assert t.swipe(old, 100, item="R01-LIMB")[1].get("reason") == "card_lost"
    # the journal, then the hot balances, to the fen
    left = 150000 - 1000 - 12345
    wait_for(lambda: ledger_money(stack, new, "R01-LIMB") == left, 30, "the carry-over entry")
    assert ledger_money(stack, old, "R01-LIMB") == 0
    wait_for(lambda: wallet(stack, new, "R01-LIMB") == left, 30, "the new card's hot balance")
    print("\n[eligibility] card replaced and its balance spendable on the new card %.0f ms "
          "after the command started (command %s)" % ((time.time() - t0) * 1000,
                                                      r.stdout.splitlines()[-1]))
    assert wallet(stack, old, "R01-LIMB") == 0
    assert redis(stack, "HGET", "caps:{c:%s}:%s" % (card_tag(new), new), "y:R01-LIMB") == \
        caps_old
    assert t.swipe(new, 100, item="R01-LIMB", pin="123456")[1].get("reason") == "pin_invalid"
    st, doc = t.swipe(new, 100, item="R01-LIMB", pin="654321")
    assert doc["decision"] == "approved" and doc["balance_fen"] == left - 100, doc
    # a swipe of the old card reversed after the replacement: its money
    # lands on the old card and is moved on
    st, doc = t.post("/v1/swipes/%s/reversal" % late, {"request_id": "rv-" + late})
    assert st == 200 and doc["decision"] == "reversed", doc
    wait_for(lambda: ledger_money(stack, new, "R01-LIMB") == left - 100 + 12345, 30,
             "the reversal to follow")
    wait_for(lambda: wallet(stack, new, "R01-LIMB") == left - 100 + 12345, 30, "the hot balance")
    assert ledger_money(stack, old, "R01-LIMB") == 0 and wallet(stack, old, "R01-LIMB") == 0
    assert stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'transfer' AND "
                      "card_no = '%s' AND to_card_no = '%s' AND wallet = 'R01-LIMB'"
                      % (old, new)) == "2"
    # every wallet of the old card, not only this one, is at zero
    assert stack.psql("SELECT count(*) FROM ledger_accounts WHERE card_no = '%s'" % old) > "1"
    assert stack.psql("SELECT count(*) FROM ledger_accounts WHERE card_no = '%s' AND "
                      "balance_fen <> 0" % old) == "0"
    # registry: one card in use, the replacement audited and published
    assert stack.psql("SELECT status || ' ' || replaced_by FROM elig_cards WHERE card_no = '%s'"
                      % old) == "replaced " + new
    assert stack.psql("SELECT count(*) FROM elig_cards WHERE person_id = '%s' AND status IN "
                      "('active', 'frozen')" % pid) == "1"
    assert stack.psql("SELECT string_agg(op || ' ' || actor, ', ' ORDER BY audit_id) FROM "
                      "elig_audit WHERE tbl = 'elig_card_carryovers' AND after->>'from_card_no' "
                      "= '%s'" % old) == "INSERT service-desk, UPDATE eligibility-carryover"
    r = elig(stack, "card", "replace", old, "--reason", "lost", "--actor", "x", check=False)
    assert r.returncode == 1 and "is replaced" in r.stderr, r.stderr
    # sent again (as the daemon would after a lost acknowledgement): applied once
    stack.psql("UPDATE elig_card_carryovers SET sent_at = NULL WHERE from_card_no = '%s'" % old)
    masked = old[:6] + "*" * (len(old) - 10) + old[-4:]  # reasons are logged: masked
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_rejections WHERE reason = "
                                "'duplicate: the carry-over of card %s was applied already'"
                                % masked) == "1", 30,
             "the daemon to send it again and the ledger to refuse it")
    assert ledger_money(stack, new, "R01-LIMB") == left - 100 + 12345
    wait_for(lambda: reconciled(stack, old) and reconciled(stack, new), 30, "reconcile")
    # a rebuilt cache counts the old card's swipes against the new card's caps
    ledger(stack, "rebuild-cache", "--card-prefix", new)
    assert wallet(stack, new, "R01-LIMB") == left - 100 + 12345
    assert redis(stack, "HGET", "caps:{c:%s}:%s" % (card_tag(new), new), "y:R01-LIMB") == \
        "%s|%d" % (time.strftime("%Y"), 1000 + 100)
    # the next month is issued to the new card
    assert stack.psql("SELECT card_no FROM elig_persons p JOIN elig_cards c USING (person_id) "
                      "WHERE p.person_id = '%s' AND c.status = 'active'" % pid) == new


def test_a_carry_over_waits_for_the_old_cards_swipes_to_be_posted(el):
    """A swipe of the old card still on its way to the ledger (its hold in
    Redis) holds the carry-over back; the daemon sends it once it is posted.
    Meanwhile the new card is lost too and replaced at once: the first
    carry-over, read after the second, goes to the card in use. And a
    replacement whose command died before Redis is completed by the daemon."""
    stack, t = el["stack"], el["terminal"]
    status = lambda c: redis(stack, "HGET", "card:{c:%s}:%s" % (card_tag(c), c), "status")
    nid, pid, a = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, a, "R01-LIMB") == 150000, 30, "the credit")
    holds = "holds:{c:%s}:%s" % (card_tag(a), a)
    redis(stack, "HSET", holds, "e2e-in-flight", "-1")
    r = elig(stack, "card", "replace", a, "--reason", "damaged", "--wait", "1",
             "--actor", "service-desk")
    b = r.stdout.split("replaced by card ")[1].split()[0]
    assert "carry-over: pending" in r.stdout, r.stdout
    # as if the command had died between its commit and Redis
    redis(stack, "HSET", "card:{c:%s}:%s" % (card_tag(a), a), "status", "active")
    wait_for(lambda: status(a) == "replaced", 15, "the daemon to stop the old card")
    assert t.swipe(a, 100, item="R01-LIMB")[1].get("reason") == "card_lost"
    r = elig(stack, "card", "replace", b, "--reason", "lost", "--pin", "123456",
             "--actor", "service-desk")
    c = r.stdout.split("replaced by card ")[1].split()[0]
    assert "carry-over: sent" in r.stdout, r.stdout
    time.sleep(6)
    assert ledger_money(stack, a, "R01-LIMB") == 150000 and ledger_money(stack, c, "R01-LIMB") == 0
    redis(stack, "HDEL", holds, "e2e-in-flight")
    wait_for(lambda: ledger_money(stack, c, "R01-LIMB") == 150000, 30, "the daemon's carry-over")
    assert ledger_money(stack, a, "R01-LIMB") == 0 and ledger_money(stack, b, "R01-LIMB") == 0
    assert stack.psql("SELECT to_card_no FROM ledger_card_moves WHERE from_card_no = '%s'"
                      % a) == c
    wait_for(lambda: wallet(stack, c, "R01-LIMB") == 150000, 30, "the hot balance")
    assert wallet(stack, a, "R01-LIMB") == 0 and wallet(stack, b, "R01-LIMB") == 0
    st, doc = t.swipe(c, 100, item="R01-LIMB")
    assert doc["decision"] == "approved", doc
    wait_for(lambda: all(reconciled(stack, x) for x in (a, b, c)), 30, "reconcile")


def test_a_card_stopped_by_a_status_restarts_but_not_one_an_operator_froze(el):
    stack, t = el["stack"], el["terminal"]
    status = lambda c: redis(stack, "HGET", "card:{c:%s}:%s" % (card_tag(c), c), "status")
    for operator_froze in (False, True):
        nid, pid, card = person(el)
        if operator_froze:
            elig(stack, "card", "freeze", card, "--reason", "reported stolen", "--actor", "desk")
        elig(stack, "person", "modify", pid, "--status", "revoked", "--effective", "2026-11-01",
             "--actor", "caseworker")
        assert status(card) == "frozen"
        elig(stack, "person", "modify", pid, "--status", "active", "--effective", "2026-11-02",
             "--actor", "caseworker")
        assert status(card) == ("frozen" if operator_froze else "active"), operator_froze
        assert stack.psql("SELECT status FROM elig_cards WHERE card_no = '%s'" % card) == \
            ("frozen" if operator_froze else "active")


def test_the_feed_restarts_a_card_it_stopped_when_a_certificate_is_issued_again(el, tmp_path):
    stack, t = el["stack"], el["terminal"]
    status = lambda c: redis(stack, "HGET", "card:{c:%s}:%s" % (card_tag(c), c), "status")
    nid, pid, card = person(el)
    feed = tmp_path / "certificates.csv"
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,revoked,2026-11-03,,\n%s,issued,2026-11-04,,2\n" % (nid, nid))
    elig(stack, "import-feed", str(feed), "--source", "federation-certificates",
         "--period", PERIOD)
    wait_for(lambda: stack.psql("SELECT count(*) FROM elig_person_changes WHERE source = "
                                "'federation-certificates' AND person_id = '%s'" % pid) == "3",
             10, "the feed")
    assert stack.psql("SELECT status FROM elig_persons WHERE person_id = '%s'" % pid) == "active"
    assert status(card) == "active"
    assert t.swipe(card, 100, item="R01-LIMB")[1].get("reason") != "card_frozen"
    # revoked later in the month: stopped; issued again after that: restarted
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,revoked,2026-11-20,,\n" % nid)
    elig(stack, "import-feed", str(feed), "--source", "federation-certificates-2",
         "--period", PERIOD)
    wait_for(lambda: status(card) == "frozen", 10, "the card to stop")
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,issued,2026-11-22,,2\n" % nid)
    elig(stack, "import-feed", str(feed), "--source", "federation-certificates-3",
         "--period", PERIOD)
    wait_for(lambda: status(card) == "active", 10, "the card to restart")
    assert stack.psql("SELECT status || ' ' || coalesce(frozen_by, '-') FROM elig_cards WHERE "
                      "card_no = '%s'" % card) == "active -"


def test_a_late_change_corrects_a_month_already_issued(el, tmp_path):
    """Civil affairs report late: a grade raised from the 11th and a death
    on the 21st, both after the month was issued. Issuing the month again
    pays the arrears of the first (a top-up of its own, applied once by the
    ledger) and records the overpayment of the second; a third run finds
    nothing more."""
    stack = el["stack"]
    nid, pid, card = person(el, category="limb", grade=2, care=3)
    nid2, pid2, card2 = person(el, category="limb", grade=2, care=3)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    issued = lambda p: int(stack.psql("SELECT amount_fen FROM elig_issuances WHERE person_id = "
                                      "'%s' AND item_code = 'S01-CARE' AND period = '%s'"
                                      % (p, PERIOD)))
    assert issued(pid) == 67500 and issued(pid2) == 67500
    feed = tmp_path / "late.csv"
    feed.write_text("national_id,change,effective_date,household,grade\n"
                    "%s,grade,2026-11-11,,1\n%s,death,2026-11-21,,\n" % (nid, nid2))
    elig(stack, "import-feed", str(feed), "--source", "civil-affairs-late", "--period", PERIOD)
    wait_for(lambda: stack.psql("SELECT count(*) FROM elig_person_changes WHERE source = "
                                "'civil-affairs-late' AND person_id IN ('%s', '%s')"
                                % (pid, pid2)) == "2", 10, "the feed")
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert "corrections:" in r.stdout, r.stdout
    corr = lambda p: stack.psql("SELECT item_code, amount_fen, published FROM "
                                "elig_issuance_corrections WHERE person_id = '%s' ORDER BY 1"
                                % p).splitlines()
    # care: 10 days at grade 2 and 20 at grade 1, of 30, against 30 at grade 2
    due = (67500 * 10 + 101000 * 20) // 30
    assert "S01-CARE|%d|t" % (due - 67500) in corr(pid), corr(pid)
    # the death: 20 of 30 days were due, the rest is to recover, never published
    assert "S01-CARE|%d|f" % (67500 * 20 // 30 - 67500) in corr(pid2), corr(pid2)
    topup = stack.psql("SELECT topup_id FROM elig_issuance_corrections WHERE person_id = '%s' "
                       "AND item_code = 'S01-CARE'" % pid)
    # the care subsidy is paid into the person's own account (kind cash)
    wait_for(lambda: stack.psql("SELECT amount_fen FROM ledger_entries WHERE kind = 'payment' "
                                "AND request_id = '%s'" % topup) == str(due - 67500), 30,
             "the ledger to apply the arrears")
    wait_for(lambda: payee_money(stack, pid, "S01-CARE") == due, 30,
             "the arrears paid to the person")
    assert wallet(stack, card, "S01-CARE") == 0
    before = corr(pid) + corr(pid2)
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert "corrections:" not in r.stdout and " 0 new, 0 published" in r.stdout, r.stdout
    assert corr(pid) + corr(pid2) == before
    show = elig(stack, "person", "show", pid2).stdout
    assert "kind=overpaid" in show, show


def test_top_ups_refused_as_over_budget_are_published_again_once_there_is_budget(el):
    """The care subsidy is paid from a programme whose budget is not
    allocated yet: the ledger refuses its top-up. Once the budget is
    allocated, issuing the month again publishes it again, and the ledger
    applies it once."""
    stack = el["stack"]
    prog = "e2e-unfunded-" + el["run"]
    was = stack.psql("SELECT programme FROM elig_catalogue_items WHERE code = 'S01-CARE'")
    # issuance reads the catalogue version in force in the month (0028)
    version = ("code = 'S01-CARE' AND version_id = elig_catalogue_version_at(DATE '%s-01')"
               % PERIOD)
    stack.psql("UPDATE elig_catalogue_items SET programme = '%s' WHERE code = 'S01-CARE'" % prog)
    stack.psql("UPDATE elig_catalogue_version_items SET programme = '%s' WHERE %s"
               % (prog, version))
    try:
        nid, pid, card = person(el)
        elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    finally:
        stack.psql("UPDATE elig_catalogue_items SET programme = '%s' WHERE code = 'S01-CARE'"
                   % was)
        stack.psql("UPDATE elig_catalogue_version_items SET programme = '%s' WHERE %s"
                   % (was, version))
    topup = stack.psql("SELECT topup_id FROM elig_issuances WHERE person_id = '%s' AND "
                       "item_code = 'S01-CARE'" % pid)
    assert topup, "no care subsidy issued"
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_rejections WHERE event_id = "
                                "'issue-%s' AND reason LIKE 'over budget: budget:%s:%%'"
                                % (topup, prog)) == "1", 60, "the ledger to refuse it")
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert "1 top-up(s) the ledger refused as over budget published again" in r.stdout, r.stdout
    # the ledger reads in batches (up to 100 ms waiting for more): let it
    # refuse the re-published top-up before the budget comes
    from test_ledger import ledger_caught_up
    wait_for(lambda: ledger_caught_up(stack), 60, "the ledger to refuse it again")
    ledger(stack, "allocate", "--programme", prog, "--year", "2026", "--amount-fen", "10000000",
           "--ref", "e2e-" + prog)
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert "published again" in r.stdout, r.stdout
    amount = stack.psql("SELECT amount_fen FROM elig_issuances WHERE topup_id = '%s'" % topup)
    wait_for(lambda: stack.psql("SELECT amount_fen FROM ledger_entries WHERE kind = 'payment' "
                                "AND request_id = '%s'" % topup) == amount, 60,
             "the ledger to apply it")
    wait_for(lambda: payee_money(stack, pid, "S01-CARE") == int(amount), 30,
             "the payment to the person")
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    assert "published again" not in r.stdout and " 0 new, 0 published" in r.stdout, r.stdout


def card_key(card):
    return "card:{c:%s}:%s" % (card_tag(card), card)


def test_each_item_is_spent_from_its_own_grant_within_the_persons_limits(el):
    """Credit is earmarked per item: a grant is credited to the item's own
    wallet and only that item's swipes spend it. The card carries only the
    exclusive group's winner (residential care over home care: 多头补助)
    and the person's own limb-rehabilitation tier as the annual cap."""
    stack = el["stack"]
    provider, tid = "PI" + el["run"], "TI" + el["run"]
    elig(stack, "provider", "add", provider, "--name", "罗湖区托养中心", "--district", "罗湖区",
         "--category", "social-security",
         "--items", "S03-HOME-CARE,S05-RESIDENTIAL,R10-COMMUNITY,R01-LIMB", "--actor", "test")
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    t = Terminal(stack.gateway_port, tid, out.split("secret ")[1].split()[0])
    # limb, grade 1, care level 3, adult: limb rehabilitation (18,000 a year),
    # residential care (1,500 a month; home care, 500, is in its group),
    # community rehabilitation (2,000 a year at 50 a session: 166.66 a
    # month) and the wheelchair fuel subsidy (300 a year: 25 a month, paid
    # into the person's own account, never swiped)
    nid, pid, card = person(el)
    entitlements = redis(stack, "HGETALL", card_key(card))
    assert "e:S05-RESIDENTIAL" in entitlements and "e:S03-HOME-CARE" not in entitlements
    assert redis(stack, "HGET", card_key(card), "e:R01-LIMB").startswith("1800000|0|")
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    for item, fen in (("S05-RESIDENTIAL", 150000), ("R10-COMMUNITY", 16666),
                      ("R01-LIMB", 150000)):
        wait_for(lambda: wallet(stack, card, item) == fen, 30, "the %s credit" % item)
    wait_for(lambda: payee_money(stack, pid, "S10-WHEELCHAIR-FUEL") == 2500, 30,
             "the fuel subsidy paid to the person")
    assert wallet(stack, card, "S10-WHEELCHAIR-FUEL") == 0
    time.sleep(2.5)  # the gateway's directory refresh (the new provider)
    st, doc = t.swipe(card, 2500, item="S10-WHEELCHAIR-FUEL")
    assert st == 200 and doc["reason"] == "item_paid_to_person", doc
    # community rehabilitation's own 166.66 yuan, not the residential care's
    # money; 4 sessions of 50 are within the daily cap (200) but not the grant
    st, doc = t.swipe(card, 20000, item="R10-COMMUNITY")
    assert st == 200 and doc["reason"] == "insufficient_funds", doc
    st, doc = t.swipe(card, 7000, item="R10-COMMUNITY")  # 1.4 sessions
    assert st == 200 and doc["reason"] == "amount_not_priced", doc
    st, doc = t.swipe(card, 15000, item="R10-COMMUNITY")
    assert doc["decision"] == "approved" and doc["wallet"] == "R10-COMMUNITY", doc
    assert doc["balance_fen"] == 1666, doc
    assert wallet(stack, card, "S05-RESIDENTIAL") == 150000
    # home care is not granted next to residential care
    st, doc = t.swipe(card, 100, item="S03-HOME-CARE")
    assert st == 200 and doc["reason"] == "person_ineligible", doc
    st, doc = t.swipe(card, 100000, item="S05-RESIDENTIAL")
    assert doc["decision"] == "approved" and doc["balance_fen"] == 50000, doc
    wait_for(lambda: stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'swipe' AND "
                                "card_no = '%s'" % card) == "2", 30, "the ledger's entries")
    assert stack.psql("SELECT -balance_fen FROM ledger_accounts WHERE kind = 'wallet' AND "
                      "card_no = '%s' AND wallet = 'S05-RESIDENTIAL'" % card) == "50000"


def test_an_age_limit_is_crossed_on_the_birthday(el):
    """A child's item with an age limit (autism rehabilitation, under 7)
    leaves the card on the 7th birthday: the day's sweep (run here for
    tomorrow) re-projects the card, and the sweep is recorded."""
    stack = el["stack"]
    local = datetime.datetime.utcnow() + datetime.timedelta(hours=8)
    tomorrow = (local + datetime.timedelta(days=1)).date()
    if tomorrow.month == 2 and tomorrow.day == 29:
        pytest.skip("a birthday on 29 February is swept on 1 March")
    birth = tomorrow.replace(year=tomorrow.year - 7)
    # a 低保 household: psychiatric medication is for 低保/低边 families (seed 001)
    nid, pid, card = person(el, category="psychiatric", grade=2, care=1, household="dibao",
                            birth=birth.isoformat())
    # autism rehabilitation is granted by an application
    assert redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "0"
    approve_items(el, pid, ["R02-AUTISM"])
    assert redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "1"
    r = elig(stack, "ages", "--day", tomorrow.isoformat(), "--actor", "test")
    assert "ages %s: " % tomorrow.isoformat() in r.stdout, r.stdout
    assert int(r.stdout.split(": ")[1].split()[0]) >= 1, r.stdout
    assert redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "0"
    assert redis(stack, "HEXISTS", card_key(card), "e:R08-PSY-MEDS") == "1"  # no age limit
    assert stack.psql("SELECT count(*) FROM elig_age_sweeps WHERE day = '%s'"
                      % tomorrow.isoformat()) == "1"
    r = elig(stack, "ages", "--day", "2026-02-30", "--actor", "test", check=False)
    assert r.returncode == 1 and "--day" in r.stderr, r.stdout + r.stderr
