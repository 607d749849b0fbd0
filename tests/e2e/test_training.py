"""The 在训 monthly check (seed 001: 康复训练对象在训情况每月核查机制) against the
real stack: a person entitled to vocational training (E01-VOCATIONAL,
attendance_weeks 4 in the catalogue) who has not attended for five weeks
has the item paused by `attendance check`: the terminal declines it
`item_paused`, an EntitlementChanged "paused" is on onecard.card-status.v1
keyed by the card, and the check run again changes nothing. A provider's
attendance report resumes it (an EntitlementChanged "resumed"; the swipe is
approved), after every bad report was refused naming its line and field
with nothing recorded. An approved swipe is attendance too: the daemon's
consumer of onecard.swipes.v1 records it, and the check then leaves the
person alone.

The stack is shared with the other modules, so every check here names its
person (`--person`): the daemon's own daily check is off in the tests
(ONECARD_ATTENDANCE_CHECK_HOUR=-1, conftest.py) and a whole-district check
would pause the other modules' persons too. The weeks are made by
`--as-of`: a first check 35 days back starts the person's weeks there.
"""
import datetime
import json
import os
import subprocess
import time

from conftest import kcat

from test_eligibility import el  # noqa: F401 (the fixture)
from test_eligibility import card_key, elig, person, redis, wait_for, wallet
from gateway_client import Terminal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(REPO, "proto")
LOCAL = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
PERIOD = LOCAL.strftime("%Y-%m")
ITEM = "E01-VOCATIONAL"  # priced: 100 yuan a session, 3,000 a year, 4 weeks


def day(delta):
    return (LOCAL + datetime.timedelta(days=delta)).isoformat()


def training_terminal(el, tag, items=ITEM):
    stack = el["stack"]
    provider = "PTR" + tag + el["run"]
    elig(stack, "provider", "add", provider, "--name", "罗湖区职业培训中心", "--district",
         "罗湖区", "--category", "employment", "--items", items, "--actor", "test")
    out = elig(stack, "terminal", "add", "T" + provider, "--provider", provider,
               "--actor", "test").stdout
    time.sleep(2.5)  # the gateway's directory refresh
    return provider, Terminal(stack.gateway_port, "T" + provider,
                              out.split("secret ")[1].split()[0])


def entitlement_events(stack, card):
    """The EntitlementChanged events keyed by card, decoded by protoc."""
    listing = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", "onecard.card-status.v1",
                              "-o", "beginning", "-e", "-q", "-f", "%p %o %k %h\n"],
                             capture_output=True, text=True, timeout=60).stdout
    out = []
    for line in listing.splitlines():
        p, o, k, h = line.split(" ", 3)
        if k != card or "ce_type=onecard.v1.EntitlementChanged" not in h:
            continue
        payload = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t",
                                  "onecard.card-status.v1", "-p", p, "-o", o, "-c", "1", "-e",
                                  "-q", "-D", "", "-f", "%s"],
                                 capture_output=True, timeout=30, check=True).stdout
        text = subprocess.run(["protoc", "-I", PROTO_DIR,
                               "--decode=onecard.v1.EntitlementChanged",
                               os.path.join(PROTO_DIR, "eligibility.proto")],
                              input=payload, capture_output=True, check=True).stdout.decode()
        out.append(dict(l.split(": ", 1) for l in text.strip().splitlines()))
    return out


def pauses(stack, pid):
    return stack.psql("SELECT item_code, paused_on, basis_day, coalesce(resumed_on::text, '-'), "
                      "coalesce(resumed_by, '-'), pause_published, resume_published FROM "
                      "elig_item_pauses WHERE person_id = '%s' ORDER BY pause_id" % pid)


def check(stack, pid, as_of):
    return elig(stack, "attendance", "check", "--as-of", as_of, "--person", pid,
                "--actor", "test").stdout


def test_training_is_paused_without_attendance_and_resumed_by_a_report(el, tmp_path):
    stack = el["stack"]
    provider, t = training_terminal(el, "A")
    _, pid, card = person(el)  # limb, grade 1, adult: vocational training among the rest
    assert redis(stack, "HEXISTS", card_key(card), "e:" + ITEM) == "1"
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, ITEM) == 25000, 30, "the month's training credit")

    # the first check, five weeks back, starts the weeks; nothing is due yet
    out = check(stack, pid, day(-35))
    assert "0 newly paused" in out, out
    assert stack.psql("SELECT since_day, coalesce(last_day::text, '-') FROM elig_attendance "
                      "WHERE person_id = '%s' AND item_code = '%s'" % (pid, ITEM)) == \
        "%s|-" % day(-35)
    # the person's other checked items (limb rehabilitation, vocational
    # rehabilitation) start too
    checked = int(stack.psql("SELECT count(*) FROM elig_attendance WHERE person_id = '%s'" % pid))
    assert checked == 3, checked
    assert "%d entitled" % checked in out, out

    # today: five weeks without attendance, four allowed
    out = check(stack, pid, day(0))
    assert "%d newly paused" % checked in out, out
    assert "%s|%s|%s|-|-|t|f" % (ITEM, day(0), day(-35)) in pauses(stack, pid).splitlines()
    assert redis(stack, "HGET", card_key(card), "p:" + ITEM) == day(0)
    # the entitlement and its credit stay; the terminal declines the item
    assert redis(stack, "HEXISTS", card_key(card), "e:" + ITEM) == "1"
    assert wallet(stack, card, ITEM) == 25000
    st, doc = t.swipe(card, 10000, item=ITEM)
    assert st == 200 and doc["decision"] == "declined" and doc["reason"] == "item_paused", doc
    assert doc["display_zh"] == "此培训项目因未按时参训已暂停，参训后恢复", doc
    assert wallet(stack, card, ITEM) == 25000
    events = wait_for(lambda: [e for e in entitlement_events(stack, card)
                               if e["item_code"] == '"%s"' % ITEM] or None, 30, "the notice")
    assert len(events) == 1, events
    e = events[0]
    assert e["state"] == '"paused"' and e["reason"] == '"no-attendance"', e
    assert e["since"] == '"%s"' % day(-35) and e["weeks"] == "4", e
    assert e["effective_date"] == '"%s"' % day(0) and e["person_id"] == '"%s"' % pid, e

    # the check run again (and on a later day) changes nothing
    before = (pauses(stack, pid), stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = "
                                             "'elig_item_pauses'"))
    for as_of in (day(0), day(3)):
        out = check(stack, pid, as_of)
        assert "0 newly paused" in out, out
    assert (pauses(stack, pid), stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = "
                                           "'elig_item_pauses'")) == before
    assert len(entitlement_events(stack, card)) == checked  # each pause once
    assert "%s\t" % pid in elig(stack, "attendance", "paused").stdout

    # bad reports: refused whole, naming the line and the field; nothing recorded
    report = tmp_path / "attendance.csv"
    header = "provider_id,card_no,item_code,attended_on\n"
    good = "%s,%s,%s,%s\n" % (provider, card, ITEM, day(-1))
    other, _ = training_terminal(el, "B", "R10-COMMUNITY")
    bad = [
        (good + "%s,%s,%s,%s\n" % (provider, card, ITEM, day(1)),
         "line 3: attended_on %s is after today" % day(1)),
        (good + "%s,%s,%s,2026-02-30\n" % (provider, card, ITEM), "line 3: attended_on"),
        (good + "%s,4111111111111111,%s,%s\n" % (provider, ITEM, day(-1)),
         "line 3: card_no: no such card"),
        (good + "NOPE%s,%s,%s,%s\n" % (el["run"], card, ITEM, day(-1)),
         "line 3: provider_id: no such provider"),
        (good + "%s,%s,R10-COMMUNITY,%s\n" % (other, card, day(-1)),
         "line 3: item_code: not checked for attendance"),
        (good + "%s,%s,%s,%s\n" % (other, card, ITEM, day(-1)),
         "line 3: provider_id: not designated for the item"),
        (good + "%s,%s,%s\n" % (provider, card, ITEM), "line 3: 3 fields, expected 4"),
        ("provider,card,item,day\n" + good, "line 1: column 1 is \"provider\""),
    ]
    for text, want in bad:
        report.write_text(header + text if not text.startswith("provider,") else text)
        r = elig(stack, "attendance", "report", str(report), "--actor", "test", check=False)
        assert r.returncode == 1 and want in r.stderr and "nothing recorded" in r.stderr, \
            (want, r.stdout, r.stderr)
        assert card not in r.stdout + r.stderr  # never a whole card number
    assert stack.psql("SELECT count(*) FROM elig_attendance_reports WHERE card_no = '%s'"
                      % card) == "0"
    assert redis(stack, "HGET", card_key(card), "p:" + ITEM) == day(0)

    # the provider's report: attended yesterday, after the weeks' basis
    report.write_text(header + good + good)
    r = elig(stack, "attendance", "report", str(report), "--actor", "test")
    assert "2 rows, 1 new, 1 paused items resumed" in r.stdout, r.stdout
    assert "%s|%s|%s|%s|report|t|t" % (ITEM, day(0), day(-35), day(-1)) in \
        pauses(stack, pid).splitlines()
    assert redis(stack, "HEXISTS", card_key(card), "p:" + ITEM) == "0"
    # limb rehabilitation was not attended: still paused
    assert redis(stack, "HGET", card_key(card), "p:R01-LIMB") == day(0)
    assert elig(stack, "attendance", "paused").stdout.count("%s\t" % pid) == checked - 1
    resumed = [e for e in entitlement_events(stack, card) if e["state"] == '"resumed"']
    assert len(resumed) == 1 and resumed[0]["item_code"] == '"%s"' % ITEM, resumed
    assert resumed[0]["reason"] == '"report"' and resumed[0]["since"] == '"%s"' % day(-1)
    st, doc = t.swipe(card, 10000, item=ITEM)
    assert doc["decision"] == "approved" and doc["balance_fen"] == 15000, doc
    # the same report again resumes nothing and publishes nothing
    r = elig(stack, "attendance", "report", str(report), "--actor", "test")
    assert "2 rows, 0 new, 0 paused items resumed" in r.stdout, r.stdout
    assert len(entitlement_events(stack, card)) == checked + 1
    # attended yesterday: the check today leaves the item alone
    assert "0 newly paused" in check(stack, pid, day(0))
    assert redis(stack, "HEXISTS", card_key(card), "p:" + ITEM) == "0"
    # the daemon's gauges (services/eligibility/gauges.h) count the pauses
    # still open and the report's row recorded
    def gauges_agree():
        open_ = float(stack.psql("SELECT count(*) FROM elig_item_pauses WHERE resumed_at IS NULL"))
        rows = float(stack.psql("SELECT count(*) FROM elig_attendance_reports WHERE "
                                "recorded_at > now() - interval '24 hours'"))
        return open_ >= checked - 1 and rows >= 1 and \
            stack.metric("eligibility", "onecard_eligibility_entitlements_paused") == open_ and \
            stack.metric("eligibility", "onecard_eligibility_attendance_report_rows_24h") == rows
    wait_for(gauges_agree, 20, "the pause and attendance gauges")


def test_an_approved_swipe_is_attendance(el):
    stack = el["stack"]
    _, t = training_terminal(el, "C")
    _, pid, card = person(el)
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, ITEM) == 25000, 30, "the month's training credit")
    assert "0 newly paused" in check(stack, pid, day(-35))
    st, doc = t.swipe(card, 10000, item=ITEM)
    assert doc["decision"] == "approved", doc
    # the daemon reads the swipe from onecard.swipes.v1 as attendance today
    wait_for(lambda: stack.psql("SELECT last_day, last_source FROM elig_attendance WHERE "
                                "person_id = '%s' AND item_code = '%s'" % (pid, ITEM)) ==
             "%s|swipe" % day(0), 30, "the swipe recorded as attendance")
    out = check(stack, pid, day(0))
    assert "2 newly paused" in out, out  # limb and vocational rehabilitation: never swiped
    assert redis(stack, "HEXISTS", card_key(card), "p:" + ITEM) == "0"
    assert redis(stack, "HEXISTS", card_key(card), "p:R01-LIMB") == "1"
    st, doc = t.swipe(card, 10000, item=ITEM)
    assert doc["decision"] == "approved", doc
    # four weeks after the swipe with nothing since: paused
    assert "1 newly paused" in check(stack, pid, day(28))
    assert redis(stack, "HGET", card_key(card), "p:" + ITEM) == day(28)


def test_the_pauses_who_is_eligible_and_a_report_over_http(el, tmp_path):
    """The reports the operators have by command, read over the operator
    API within the operator's area, and a provider's attendance report
    recorded over it by a district operator (and refused to everyone
    else, with nothing recorded)."""
    from test_operator_api import Api, bearer, error, signed_in
    stack, run = el["stack"], el["run"]
    provider, _ = training_terminal(el, "H")
    _, pid, card = person(el)
    person(el, birth="1990-03-02")  # a second trainee: the pages below hold two at least
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    check(stack, pid, day(-35))
    assert "newly paused" in check(stack, pid, day(0))

    village = bearer(el, "att-v-" + run, "village", "湖贝社区")
    other = bearer(el, "att-o-" + run, "village", "翠竹社区")
    fin = bearer(el, "att-f-" + run, "finance", "*")
    admin = bearer(el, "att-a-" + run, "administrator", "*")

    # the open pauses: the village's own, masked; not another village's
    st, doc, r = village.call("GET", "/v1/attendance/pauses", raw=True)
    assert st == 200 and card.encode() not in doc, doc
    doc = json.loads(doc)
    mine = [p for p in doc["pauses"] if p["person_id"] == pid]
    assert ITEM in {p["item"] for p in mine} and len(mine) == 3, mine
    assert all(p["village"] == "湖贝社区" for p in doc["pauses"]), doc
    assert mine[0]["card"].endswith(card[-4:]) and mine[0]["paused_on"] == day(0), mine
    assert doc["total"] == len(doc["pauses"]) and doc["area"] == "湖贝社区", doc
    st, doc, _ = other.call("GET", "/v1/attendance/pauses")
    assert st == 200 and all(p["person_id"] != pid for p in doc["pauses"]), doc
    st, doc, _ = fin.call("GET", "/v1/attendance/pauses")
    assert st == 200 and any(p["person_id"] == pid for p in doc["pauses"]), doc

    # who the item admits: pages within the area, the same order as the command
    seen, after, pages = [], None, 0
    while True:
        path = "/v1/items/%s/eligible?limit=200" % ITEM + ("&after=" + after if after else "")
        st, doc, _ = village.call("GET", path)
        assert st == 200, doc
        assert all(p["village"] == "湖贝社区" and "name" in p for p in doc["persons"]), doc
        seen += [p["person_id"] for p in doc["persons"]]
        pages += 1
        after = doc["next_after"]
        if after is None:
            break
        assert len(doc["persons"]) == 200
    assert pid in seen and len(seen) == len(set(seen)), (pages, len(seen))
    st, doc, _ = other.call("GET", "/v1/items/%s/eligible" % ITEM)
    assert st == 200 and pid not in [p["person_id"] for p in doc["persons"]], doc
    st, doc, _ = fin.call("GET", "/v1/items/%s/eligible?limit=5" % ITEM)
    assert st == 200 and all("name" not in p for p in doc["persons"]), doc
    every = [l.split("\t")[0] for l in elig(stack, "person", "eligible", ITEM, "--limit",
                                             "100000").stdout.split("\n") if l]
    assert pid in every and len(every) >= 2, every
    half = len(every) // 2
    st, page, _ = admin.call("GET", "/v1/items/%s/eligible?limit=%d" % (ITEM, half))
    assert [p["person_id"] for p in page["persons"]] == every[:half], (page, every)
    assert page["next_after"], page
    st, page2, _ = admin.call("GET", "/v1/items/%s/eligible?limit=1000&after=%s" %
                              (ITEM, page["next_after"]))
    assert [p["person_id"] for p in page2["persons"]] == every[half:], (page2, every)
    assert page2["next_after"] is None, page2
    cmd = elig(stack, "person", "eligible", ITEM, "--limit", "1000", "--after",
               page["next_after"]).stdout.split("\n")
    assert [l.split("\t")[0] for l in cmd if l] == every[half:], cmd
    doc = json.loads(elig(stack, "person", "eligible", ITEM, "--limit", "100000", "--format",
                          "json").stdout)
    assert [p["person_id"] for p in doc["persons"]] == every and doc["next_after"] is None, doc
    doc = json.loads(elig(stack, "attendance", "paused", "--format", "json").stdout)
    assert doc["total"] == len(doc["pauses"]) and \
        any(p["person_id"] == pid and p["item"] == ITEM for p in doc["pauses"]), doc
    assert card not in json.dumps(doc)
    for path, status, code, text in [
            ("/v1/items/NOPE-%s/eligible" % run, 404, "not_found", "not in the catalogue"),
            ("/v1/items/%s/eligible?limit=0" % ITEM, 400, "invalid", "limit must be"),
            ("/v1/items/%s/eligible?after=yesterday" % ITEM, 400, "invalid", "after must be")]:
        st, doc, _ = admin.call("GET", path)
        assert st == status, (path, doc)
        error(doc, code, text)
    st, doc, _ = admin.call("GET", "/v1/items/r02/eligible")
    assert st == 404, doc

    # a report over HTTP: only a district operator of the persons' district
    # or an administrator; refused whole otherwise, nothing recorded
    body = ("provider_id,card_no,item_code,attended_on\n%s,%s,%s,%s\n"
            % (provider, card, ITEM, day(-1))).encode()
    before = stack.psql("SELECT count(*) FROM elig_attendance_reports WHERE card_no = '%s'" % card)
    st, doc, _ = village.call("POST", "/v1/attendance/reports", body, "text/csv")
    assert st == 403, doc
    error(doc, "forbidden", "a village operator does not record attendance reports")
    far = bearer(el, "att-d2-" + run, "district", "龙岗区")
    st, doc, _ = far.call("POST", "/v1/attendance/reports", body, "text/csv")
    assert st == 403, doc
    error(doc, "forbidden", "outside district 龙岗区")
    district = signed_in(el, "att-d-" + run, "district", "罗湖区")
    st, doc, _ = district.call("POST", "/v1/attendance/reports", body, "text/csv",
                               headers={"X-CSRF-Token": "0" * 32})
    assert st == 403, doc
    error(doc, "csrf", "X-CSRF-Token")
    st, doc, _ = district.call("POST", "/v1/attendance/reports", body, "text/plain")
    assert st == 415, doc
    bad = body + ("%s,%s,%s,%s\n" % (provider, card, ITEM, day(1))).encode()
    st, doc, _ = district.call("POST", "/v1/attendance/reports", bad, "text/csv")
    assert st == 400, doc
    error(doc, "invalid", "line 3: attended_on")
    assert card not in json.dumps(doc)
    assert stack.psql("SELECT count(*) FROM elig_attendance_reports WHERE card_no = '%s'"
                      % card) == before
    assert redis(stack, "HGET", card_key(card), "p:" + ITEM) == day(0)
    st, doc, _ = district.call("POST", "/v1/attendance/reports", body, "text/csv")
    assert st == 200 and doc == {"rows": 1, "new": 1, "resumed": 1, "published": True}, doc
    assert redis(stack, "HEXISTS", card_key(card), "p:" + ITEM) == "0"
    assert "%s|%s|%s|%s|report|t|t" % (ITEM, day(0), day(-35), day(-1)) in \
        pauses(stack, pid).splitlines()
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_item_pauses' AND "
                      "actor = 'att-d-%s'" % run) != "0"
    st, doc, _ = Api(stack.operator_port).call("GET", "/v1/attendance/pauses")
    assert st == 401, doc
