"""Applications and the three-level review against the real stack: a
child's application for autism rehabilitation (an item the catalogue grants
only by an approved application) submitted by a guardian, passed by the
village, the town and the district reviewers, each signed in with their own
session; the item is usable at a terminal after the approval and not
before, and the month's issuance prorates it from the day of approval. A
rejection, a return and resubmission, an overdue application escalated
once and listed first, and every refusal of the issue: another village's
reviewer (also asking by id), a level skipped, a decision made twice, one
operator at two levels, a missing reason, a brute-forced login locked after
five tries, an expired session.
"""
import datetime
import os
import subprocess
import time

from conftest import BUILD, kcat
from gateway_client import Terminal
from test_eligibility import el  # noqa: F401 (the fixture)
from test_eligibility import card_key, elig, national_id, redis, wait_for, wallet

LOCAL = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
PERIOD = LOCAL.strftime("%Y-%m")


def operator(el, oid, role, area, password="correct horse battery"):
    stack = el["stack"]
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-eligibility"), "operator", "add", oid,
                        "--role", role, "--area", area, "--actor", "admin"],
                       input=password + "\n", env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return login(el, oid, password)


def login(el, oid, password="correct horse battery", check=True):
    stack = el["stack"]
    env = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn, ONECARD_KAFKA_BROKERS=stack.brokers,
               ONECARD_REDIS_PORT=str(stack.redis_port))
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-eligibility"), "operator", "login",
                        oid], input=password + "\n", env=env, capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
        return r.stdout.split()[1]
    return r


def child(el, village="湖贝社区", birth=None, category="psychiatric"):
    el["seq"] += 1
    birth = birth or LOCAL.replace(year=LOCAL.year - 4, day=1)
    nid = national_id(birth.isoformat(), int(el["run"]) * 10 + el["seq"])
    out = elig(el["stack"], "person", "add", "--national-id", nid, "--name", "申请人",
               "--category", category, "--grade", "2", "--care-level", "1",
               "--birth", birth.isoformat(), "--district", "罗湖区", "--town", "东门街道",
               "--village", village, "--household", "none", "--since", "2026-01-01",
               "--actor", "test").stdout
    pid = out.split()[1]
    card = elig(el["stack"], "card", "issue", pid, "--pin", "123456",
                "--actor", "test").stdout.split()[1]
    return pid, card


def decide(el, app, session, decision="pass", reason=None, check=True):
    args = ["application", "decide", app, "--decision", decision, "--session", session]
    if reason:
        args += ["--reason", reason]
    return elig(el["stack"], *args, check=check)


def test_a_childs_application_through_three_levels_then_usable_at_the_terminal(el):
    stack, run = el["stack"], el["run"]
    sv = operator(el, "village-" + run, "village", "湖贝社区")
    st = operator(el, "town-" + run, "town", "东门街道")
    sd = operator(el, "district-" + run, "district", "罗湖区")
    provider, tid = "PAPP" + run, "TAPP" + run
    elig(stack, "provider", "add", provider, "--name", "罗湖区儿童康复院", "--district", "罗湖区",
         "--category", "rehabilitation", "--items", "R02-AUTISM", "--actor", "test")
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    t = Terminal(stack.gateway_port, tid, out.split("secret ")[1].split()[0])
    time.sleep(2.5)  # the gateway's directory refresh
    pid, card = child(el)
    # not before: the rule admits the child (who may apply), the catalogue
    # wants an application
    eligible = elig(stack, "person", "eligible", "R02-AUTISM", "--limit", "100000").stdout
    assert pid in eligible, eligible[:200]
    assert redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "0"
    assert t.swipe(card, 1000, item="R02-AUTISM")[1]["reason"] == "person_ineligible"
    t0 = time.time()
    guardian = national_id("1990-03-01", int(run) % 1000)
    r = elig(stack, "application", "submit", pid, "--items", "R02-AUTISM", "--agent-relation",
             "guardian", "--agent-id", guardian, "--actor", "service-desk")
    app = r.stdout.split()[1].rstrip(":")
    assert "by an agent" in r.stdout
    # a level cannot be skipped; the area is the reviewer's
    r = decide(el, app, st, check=False)
    assert r.returncode == 1 and "waits for the village level" in r.stderr, r.stderr
    other = operator(el, "village2-" + run, "village", "螺岭社区")
    r = decide(el, app, other, check=False)
    assert r.returncode == 1 and "not in your area" in r.stderr, r.stderr
    r = elig(stack, "application", "show", app, "--session", other, check=False)
    assert r.returncode == 1 and "not in your area" in r.stderr, r.stderr
    decide(el, app, sv)
    r = decide(el, app, sv, check=False)  # the village decided already
    assert r.returncode == 1 and "waits for the town level" in r.stderr, r.stderr
    # one operator never decides two levels: the village reviewer made a town reviewer
    stack.psql("UPDATE elig_operators SET role = 'town', area = '东门街道' WHERE operator_id = "
               "'village-%s'" % run)
    r = decide(el, app, sv, check=False)
    assert r.returncode == 1 and "decided it at the village level already" in r.stderr, r.stderr
    decide(el, app, st)
    assert t.swipe(card, 1000, item="R02-AUTISM")[1]["reason"] == "person_ineligible"
    r = decide(el, app, sd)
    assert "-> approved" in r.stdout, r.stdout
    wait_for(lambda: redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "1", 10,
             "the card to carry the item")
    r = decide(el, app, sd, check=False)
    assert r.returncode == 1 and "approved already" in r.stderr, r.stderr
    # usable: the month's grant, prorated from the day of approval
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    dim = (LOCAL.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - \
        datetime.timedelta(days=1)
    due = 240000 * (dim.day - LOCAL.day + 1) // dim.day
    wait_for(lambda: wallet(stack, card, "R02-AUTISM") == due, 60, "the prorated grant")
    _, doc = t.swipe(card, 1000, item="R02-AUTISM")
    assert doc["decision"] == "approved", doc
    print("\n[applications] submitted to usable at the terminal: %.1f s (three levels, one "
          "issuance)" % (time.time() - t0))
    show = elig(stack, "application", "show", app, "--session", sd).stdout
    assert "village-reviewed" in show and "town-reviewed" in show and "approved" in show, show
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_applications' AND "
                      "after->>'application_id' = '%s'" % app) == "4"
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_operators' AND "
                      "after::text LIKE '%%argon2%%'") == "0"
    # the events: every change of state, no national id
    out = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.applications.v1",
                          "-e", "-q", "-f", "%k %s\n"], capture_output=True, timeout=30).stdout
    mine = [line for line in out.split(b"\n") if line.startswith(app.encode() + b" ")]
    assert len(mine) == 4, mine
    assert not any(guardian.encode() in line for line in mine)


def test_rejected_returned_resubmitted_and_an_overdue_one_escalated(el):
    stack, run = el["stack"], el["run"]
    sv = operator(el, "v3-" + run, "village", "新港社区")
    pid, card = child(el, village="新港社区")
    app = elig(stack, "application", "submit", pid, "--items", "R02-AUTISM",
               "--actor", "service-desk").stdout.split()[1].rstrip(":")
    r = decide(el, app, sv, "return", check=False)
    assert r.returncode == 1 and "--reason is required" in r.stderr, r.stderr
    decide(el, app, sv, "return", "the diagnosis from a designated hospital is missing")
    r = decide(el, app, sv, check=False)
    assert r.returncode == 1 and "waits for the applicant to resubmit" in r.stderr, r.stderr
    elig(stack, "application", "resubmit", app, "--actor", "service-desk")
    decide(el, app, sv, "reject", "not in training at a designated provider")
    assert stack.psql("SELECT state || '|' || reason FROM elig_applications WHERE "
                      "application_id = '%s'" % app) == \
        "rejected|not in training at a designated provider"
    # an application left past its time limit is escalated once and listed first
    pid2, _ = child(el, village="新港社区")
    pid3, _ = child(el, village="新港社区")
    late = elig(stack, "application", "submit", pid2, "--items", "R02-AUTISM",
                "--actor", "service-desk").stdout.split()[1].rstrip(":")
    fresh = elig(stack, "application", "submit", pid3, "--items", "R02-AUTISM",
                 "--actor", "service-desk").stdout.split()[1].rstrip(":")
    stack.psql("UPDATE elig_applications SET stage_since = now() - interval '20 days' WHERE "
               "application_id = '%s'" % late)
    r = elig(stack, "application", "sweep", "--actor", "ops")
    assert "application %s: overdue at submitted" % late in r.stdout, r.stdout
    assert fresh not in r.stdout
    r = elig(stack, "application", "sweep", "--actor", "ops")
    assert late not in r.stdout, r.stdout
    q = elig(stack, "application", "queue", "--session", sv).stdout.splitlines()
    rows = [line for line in q if line.strip().startswith("AP-")]
    assert rows[0].split()[0] == late and "OVERDUE" in rows[0], q
    assert any(line.split()[0] == fresh and "left" in line for line in rows), q
    # the daemon's gauges (services/eligibility/gauges.h, every 2 s here) count them
    def gauges_agree():
        want = {s: float(stack.psql("SELECT count(*) FROM elig_applications WHERE state = '%s'"
                                    % s)) for s in ("submitted", "rejected")}
        got = {s: stack.metric("eligibility", 'onecard_eligibility_applications{state="%s"}' % s)
               for s in want}
        overdue = stack.metric("eligibility",
                               'onecard_eligibility_applications_overdue{level="village"}')
        return got == want and want["submitted"] >= 2 and want["rejected"] >= 1 and \
            overdue is not None and overdue >= 1
    wait_for(gauges_agree, 20, "the applications gauges")


def test_materials_are_checked_stored_once_and_reused(el, tmp_path):
    """A diagnosis (a PDF) goes with a child's application; the same file
    again is reused, not stored twice; a file over 5 MiB and one that is no
    PDF, JPEG or PNG are refused with nothing stored; the child's next
    application finds the diagnosis on file."""
    stack, run = el["stack"], el["run"]
    s = operator(el, "v5-" + run, "village", "湖贝社区")
    pid, _ = child(el)
    app = elig(stack, "application", "submit", pid, "--items", "R02-AUTISM",
               "--actor", "service-desk").stdout.split()[1].rstrip(":")
    pdf = tmp_path / "diagnosis.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% a diagnosis\n" + os.urandom(2000))
    r = elig(stack, "application", "material", app, "--kind", "diagnosis", "--file", str(pdf),
             "--actor", "service-desk")
    assert "application/pdf" in r.stdout and "(stored)" in r.stdout, r.stdout
    r = elig(stack, "application", "material", app, "--kind", "diagnosis", "--file", str(pdf),
             "--actor", "service-desk")
    assert "reused, not stored again" in r.stdout, r.stdout
    before = stack.psql("SELECT count(*) || '|' || sum(size_bytes) FROM elig_materials")
    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024))
    r = elig(stack, "application", "material", app, "--kind", "assessment", "--file", str(big),
             "--actor", "service-desk", check=False)
    assert r.returncode == 1 and "over the 5242880-byte (5 MiB) limit" in r.stderr, r.stderr
    exe = tmp_path / "diagnosis.pdf.exe"
    exe.write_bytes(b"MZ\x90\x00" + os.urandom(100))
    r = elig(stack, "application", "material", app, "--kind", "assessment", "--file", str(exe),
             "--actor", "service-desk", check=False)
    assert r.returncode == 1 and "not a PDF, a JPEG or a PNG" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) || '|' || sum(size_bytes) FROM elig_materials") == before
    decide(el, app, s, "reject", "not in training at a designated provider")
    later = elig(stack, "application", "submit", pid, "--items", "R02-AUTISM",
                 "--actor", "service-desk").stdout.split()[1].rstrip(":")
    show = elig(stack, "application", "show", later, "--session", s).stdout
    assert "material diagnosis" in show and "on file, from another application" in show, show


def test_a_brute_forced_login_is_locked_and_an_expired_session_refused(el):
    stack, run = el["stack"], el["run"]
    s = operator(el, "v4-" + run, "village", "水库社区")
    for _ in range(5):
        r = login(el, "v4-" + run, "wrong password!", check=False)
        assert r.returncode == 1 and "wrong operator or password" in r.stderr, r.stderr
    r = login(el, "v4-" + run, check=False)  # the right one, too late
    assert r.returncode == 1 and "locked until" in r.stderr, r.stderr
    r = login(el, "nobody-" + run, check=False)
    assert r.returncode == 1 and "wrong operator or password" in r.stderr
    stack.psql("UPDATE elig_sessions SET expires_at = now() - interval '1 second' WHERE "
               "operator_id = 'v4-%s'" % run)
    r = elig(stack, "application", "queue", "--session", s, check=False)
    assert r.returncode == 1 and "expired" in r.stderr, r.stderr
    r = elig(stack, "application", "queue", "--session", "f" * 64, check=False)
    assert r.returncode == 1 and "no such session" in r.stderr, r.stderr


def test_an_uncertified_child_under_7_applied_for_by_a_guardian(el):
    """Seed 001: children under 7 without a certificate — a suspected
    speech disability under 3, a diagnosed autistic child — apply for the
    rehabilitation items whose rule names their evidence, and only those;
    a certificate later gives them a grade like anyone else."""
    stack, run = el["stack"], el["run"]
    sv = operator(el, "uv-" + run, "village", "湖贝社区")
    st = operator(el, "ut-" + run, "town", "东门街道")
    sd = operator(el, "ud-" + run, "district", "罗湖区")
    provider, tid = "PUNC" + run, "TUNC" + run
    elig(stack, "provider", "add", provider, "--name", "罗湖区听力言语康复中心", "--district",
         "罗湖区", "--category", "rehabilitation", "--items", "R03-HEARING-CHILD", "--actor",
         "test")
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    t = Terminal(stack.gateway_port, tid, out.split("secret ")[1].split()[0])

    def add(birth, evidence, *extra, check=True):
        el["seq"] += 1
        nid = national_id(birth.isoformat(), int(run) * 10 + el["seq"])
        return elig(stack, "person", "add", "--national-id", nid, "--name", "疑似儿童",
                    "--category", "speech", "--evidence", evidence, "--care-level", "0",
                    "--birth", birth.isoformat(), "--district", "罗湖区", "--town", "东门街道",
                    "--village", "湖贝社区", "--household", "none", "--actor", "test", *extra,
                    check=check)

    # refused, nothing registered: 7 or older without a certificate; a
    # grade with a suspicion; a word that is no evidence
    before = stack.psql("SELECT count(*) FROM elig_persons")
    r = add(LOCAL.replace(year=LOCAL.year - 9, day=1), "diagnosis", check=False)
    assert r.returncode == 1 and "only a child under 7" in r.stderr, r.stderr
    r = add(LOCAL.replace(year=LOCAL.year - 2, day=1), "suspected", "--grade", "2", check=False)
    assert r.returncode == 1 and "carries no grade" in r.stderr, r.stderr
    r = add(LOCAL.replace(year=LOCAL.year - 2, day=1), "hearsay", check=False)
    assert r.returncode == 1 and "--evidence \"hearsay\"" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) FROM elig_persons") == before

    # a two-year-old with a suspected speech disability, no grade
    r = add(LOCAL.replace(year=LOCAL.year - 2, day=1), "suspected")
    pid = r.stdout.split()[1]
    assert stack.psql("SELECT evidence || ' ' || grade FROM elig_persons WHERE person_id = "
                      "'%s'" % pid) == "suspected 0"
    card = elig(stack, "card", "issue", pid, "--pin", "123456",
                "--actor", "test").stdout.split()[1]
    time.sleep(2.5)  # the gateway's directory refresh
    # autism rehabilitation wants a diagnosis or a certificate
    r = elig(stack, "application", "submit", pid, "--items", "R02-AUTISM", "--agent-relation",
             "guardian", "--agent-id", national_id("1992-07-01", int(run) % 1000),
             "--actor", "service-desk", check=False)
    assert r.returncode == 1 and "not eligible for R02-AUTISM" in r.stderr, r.stderr
    r = elig(stack, "application", "submit", pid, "--items", "R03-HEARING-CHILD",
             "--agent-relation", "guardian", "--agent-id",
             national_id("1992-07-01", int(run) % 1000), "--actor", "service-desk")
    app = r.stdout.split()[1].rstrip(":")
    assert "by an agent" in r.stdout
    assert t.swipe(card, 1000, item="R03-HEARING-CHILD")[1]["reason"] == "person_ineligible"
    for s in (sv, st, sd):
        decide(el, app, s)
    wait_for(lambda: redis(stack, "HEXISTS", card_key(card), "e:R03-HEARING-CHILD") == "1", 10,
             "the card to carry the item")
    # the one item, and nothing a certificate would have brought
    fields = redis(stack, "HKEYS", card_key(card)).split()
    assert [f for f in fields if f.startswith("e:")] == ["e:R03-HEARING-CHILD"], fields
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    wait_for(lambda: wallet(stack, card, "R03-HEARING-CHILD") > 0, 60, "the month's grant")
    assert t.swipe(card, 1000, item="R03-HEARING-CHILD")[1]["decision"] == "approved"
    # certified later: a grade with the certificate, never a grade alone
    r = elig(stack, "person", "modify", pid, "--grade", "2", "--effective", LOCAL.isoformat(),
             "--actor", "test", check=False)
    assert r.returncode == 1 and "no certificate yet" in r.stderr, r.stderr
    elig(stack, "person", "modify", pid, "--evidence", "certificate", "--grade", "2",
         "--effective", LOCAL.isoformat(), "--actor", "test")
    assert stack.psql("SELECT evidence || ' ' || grade FROM elig_persons WHERE person_id = "
                      "'%s'" % pid) == "certificate 2"
    show = elig(stack, "person", "show", pid).stdout
    assert "attr=evidence value=suspected" in show and "attr=evidence value=certificate" in show
