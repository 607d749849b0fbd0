"""The operator API (docs/operator-api.md) against the real stack: the
three-level review of a child's application done over HTTP by three
reviewers — one with a bearer token, two signed in with the session
cookie and its CSRF token — with a material uploaded and downloaded, the
item usable at a terminal after the approval and not before; the person
pages by role (names for reviewers, not for finance); and every refusal
of the issue answered as JSON with a code and a message: no session, a
session ended or expired, a missing CSRF token, another village's
application (also by guessing its id), a level skipped, a decision twice,
one operator at two levels, a missing reason, a bad body, a wrong or
oversize file, an unknown route, a wrong method (with Allow), a locked
operator, the sign-in throttle. The daemon's own escalation sweep is
turned on and escalates an overdue application once.
"""
import http.client
import json
import os
import subprocess
import time

import pytest

from conftest import kcat
from test_applications import child, operator as operator_cmd
from test_eligibility import el  # noqa: F401 (the fixture)
from test_eligibility import card_key, elig, national_id, redis, wait_for
from gateway_client import Terminal

PASSWORD = "correct horse battery"


class Api:
    """One operator's client: a bearer token, or the cookie and CSRF token
    of a sign-in."""

    def __init__(self, port, token=None):
        self.port, self.token, self.cookie, self.csrf = port, token, None, None

    def call(self, method, path, body=None, ctype=None, headers=None, raw=False):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if self.cookie:
            h["Cookie"] = "onecard_session=" + self.cookie
            if self.csrf and method != "GET" and "X-CSRF-Token" not in h:
                h["X-CSRF-Token"] = self.csrf
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            ctype = ctype or "application/json"
        if ctype:
            h["Content-Type"] = ctype
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        if raw:
            return r.status, data, r
        return r.status, (json.loads(data) if data else None), r

    def sign_in(self, oid, password=PASSWORD):
        st, doc, r = self.call("POST", "/v1/session", {"operator": oid, "password": password})
        if st == 201:
            cookie = r.getheader("Set-Cookie")
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie, cookie
            self.cookie = cookie.split(";")[0].split("=", 1)[1]
            assert self.cookie == doc["token"]
            self.csrf = doc["csrf_token"]
        return st, doc


def add_operator(el, oid, role, area):
    operator_cmd(el, oid, role, area)  # added with the command (the password on stdin)


def bearer(el, oid, role, area):
    add_operator(el, oid, role, area)
    out = elig(el["stack"], "operator", "token", oid, "--days", "30", "--label", "e2e script",
               "--actor", "admin").stdout
    return Api(el["stack"].operator_port, out.split()[1])


def signed_in(el, oid, role, area):
    add_operator(el, oid, role, area)
    a = Api(el["stack"].operator_port)
    st, doc = a.sign_in(oid)
    assert st == 201, doc
    return a


def error(doc, code, text):
    assert doc and doc["error"]["code"] == code and text in doc["error"]["message"], doc


def test_a_childs_application_reviewed_over_http_then_usable(el, tmp_path):
    stack, run = el["stack"], el["run"]
    sv = bearer(el, "api-v-" + run, "village", "湖贝社区")
    st_ = signed_in(el, "api-t-" + run, "town", "东门街道")
    sd = signed_in(el, "api-d-" + run, "district", "罗湖区")
    other = signed_in(el, "api-o-" + run, "village", "螺岭社区")
    provider, tid = "PAPI" + run, "TAPI" + run
    elig(stack, "provider", "add", provider, "--name", "罗湖区儿童康复院", "--district", "罗湖区",
         "--category", "rehabilitation", "--items", "R02-AUTISM", "--actor", "test")
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    t = Terminal(stack.gateway_port, tid, out.split("secret ")[1].split()[0])
    time.sleep(2.5)  # the gateway's directory refresh
    pid, card = child(el)
    st, me, _ = sd.call("GET", "/v1/me")
    assert st == 200 and me["operator"]["role"] == "district" and me["csrf_token"] == sd.csrf

    t0 = time.time()
    guardian = national_id("1991-04-01", int(run) % 1000)
    st, doc, _ = sv.call("POST", "/v1/applications",
                         {"person_id": pid, "items": ["R02-AUTISM"], "agent_relation": "guardian",
                          "agent_id": guardian})
    assert st == 201 and doc["state"] == "submitted" and doc["published"], doc
    app = doc["application_id"]
    # a reviewer of another village cannot submit for this person
    st, doc, _ = other.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]})
    assert st == 403, doc
    error(doc, "forbidden", "not in your area")

    # the diagnosis, uploaded with the application and downloaded again
    pdf = b"%PDF-1.4\n% a diagnosis\n" + os.urandom(3000)
    st, doc, _ = sv.call("PUT", "/v1/applications/%s/materials/diagnosis" % app, pdf,
                         ctype="application/pdf")
    assert st == 201 and doc["stored"] == "stored" and len(doc["sha256"]) == 64, doc
    st, doc, _ = sv.call("PUT", "/v1/applications/%s/materials/diagnosis" % app, pdf,
                         ctype="application/pdf")
    assert st == 200 and doc["stored"] == "reused", doc
    st, data, r = sd.call("GET", "/v1/applications/%s/materials/diagnosis" % app, raw=True)
    assert st == 200 and data == pdf and r.getheader("Content-Type") == "application/pdf"
    assert "attachment" in r.getheader("Content-Disposition")

    # the village's queue lists it; another village's reviewer neither sees nor decides it
    st, q, _ = sv.call("GET", "/v1/applications")
    assert st == 200 and q["level"] == "village" and \
        any(a["application_id"] == app for a in q["applications"]), q
    st, q, _ = other.call("GET", "/v1/applications")
    assert st == 200 and not any(a["application_id"] == app for a in q["applications"]), q
    st, doc, _ = other.call("GET", "/v1/applications/" + app)
    assert st == 403, doc
    error(doc, "forbidden", "not in your area")
    st, doc, _ = other.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 403, doc
    # a level cannot be skipped
    st, doc, _ = st_.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 409, doc
    error(doc, "conflict", "waits for the village level")
    # a rejection needs a reason
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "reject"})
    assert st == 400, doc
    error(doc, "invalid", "reason is required")
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 200 and doc["from"] == "submitted" and doc["state"] == "village-reviewed", doc
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 409, doc  # decided at this level already
    # the cookie alone does not change anything: the CSRF token is required
    st, doc, _ = st_.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"},
                          headers={"X-CSRF-Token": "0" * 32})
    assert st == 403, doc
    error(doc, "csrf", "X-CSRF-Token is wrong")
    st, doc, _ = st_.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 200 and doc["state"] == "town-reviewed", doc
    assert t.swipe(card, 1000, item="R02-AUTISM")[1]["reason"] == "person_ineligible"
    st, doc, _ = sd.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 200 and doc["state"] == "approved" and doc["effective_from"], doc
    wait_for(lambda: redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "1", 10,
             "the card to carry the item")
    print("\n[operator API] submitted to the card carrying the item: %.1f s (three levels over "
          "HTTP)" % (time.time() - t0))
    st, doc, _ = sd.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 409, doc
    error(doc, "conflict", "approved already")

    st, a, _ = sd.call("GET", "/v1/applications/" + app)
    assert st == 200 and a["state"] == "approved" and a["agent"] == {"relation": "guardian"}, a
    assert [h["to"] for h in a["history"]] == ["submitted", "village-reviewed", "town-reviewed",
                                               "approved"], a["history"]
    assert [h["operator"] for h in a["history"][1:]] == ["api-v-" + run, "api-t-" + run,
                                                         "api-d-" + run]
    assert a["materials"][0]["kind"] == "diagnosis" and a["materials"][0]["this_application"]
    assert guardian not in json.dumps(a)

    # the person's page: a reviewer sees the name, finance does not and cannot search by it
    st, p, _ = sv.call("GET", "/v1/persons/" + pid)
    assert st == 200 and p["name"] == "申请人" and p["granted_by_application"] == ["R02-AUTISM"], p
    assert card not in json.dumps(p) and p["cards"][0]["card"].endswith(card[-4:]), p["cards"]
    assert any(x["application_id"] == app for x in p["applications"])
    fin = bearer(el, "api-f-" + run, "finance", "*")
    st, p, _ = fin.call("GET", "/v1/persons/" + pid)
    assert st == 200 and "name" not in p and p["status"] == "active", p
    st, doc, _ = fin.call("GET", "/v1/persons?name=%E7%94%B3")
    assert st == 403, doc
    st, found, _ = sv.call("GET", "/v1/persons?card_tail=" + card[-6:])
    assert st == 200 and any(x["person_id"] == pid for x in found["persons"]), found
    st, found, _ = other.call("GET", "/v1/persons?card_tail=" + card[-6:])
    assert st == 200 and not any(x["person_id"] == pid for x in found["persons"]), found
    st, doc, _ = other.call("GET", "/v1/persons/" + pid)
    assert st == 404, doc  # not in the area: as if not registered


def test_requests_that_are_refused_say_why_in_json(el):
    stack, run = el["stack"], el["run"]
    anon = Api(stack.operator_port)
    st, doc, _ = anon.call("GET", "/v1/applications")
    assert st == 401, doc
    error(doc, "unauthorized", "sign in first")
    st, doc, _ = Api(stack.operator_port, "f" * 64).call("GET", "/v1/me")
    assert st == 401, doc
    error(doc, "unauthorized", "no such session")
    st, doc, _ = anon.call("GET", "/v1/nothing")
    assert st == 404, doc
    error(doc, "no_route", "/v1/nothing")
    st, doc, r = anon.call("PATCH", "/v1/applications")
    assert st == 405 and r.getheader("Allow") == "GET, POST", (doc, r.getheader("Allow"))
    st, doc, _ = anon.call("GET", "/v1/applications/AP-1/materials/passport")
    assert st == 404, doc  # not a kind of material: no such route
    st, doc, _ = anon.call("POST", "/v1/session", b"operator=x", ctype="text/plain")
    assert st == 415, doc
    st, doc, _ = anon.call("POST", "/v1/session", {"operator": "xx", "password": "y", "otp": 1})
    assert st == 400, doc
    error(doc, "invalid", 'unknown field "otp"')

    sv = signed_in(el, "api-r-" + run, "village", "新港社区")
    pid, _ = child(el, village="新港社区")
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R01-LIMB"]})
    assert st == 400, doc
    error(doc, "invalid", "granted from the registry")
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": "R02-AUTISM"})
    assert st == 400, doc
    error(doc, "invalid", 'field "items" must be an array of strings')
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]},
                         headers={"X-CSRF-Token": ""})
    assert st == 403, doc  # the cookie without its CSRF token
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]})
    assert st == 201, doc
    app = doc["application_id"]
    before = stack.psql("SELECT count(*) FROM elig_materials")
    st, doc, _ = sv.call("PUT", "/v1/applications/%s/materials/assessment" % app,
                         b"MZ\x90\x00" + os.urandom(100), ctype="application/pdf")
    assert st == 415, doc
    error(doc, "unsupported_type", "not a PDF, a JPEG or a PNG")
    st, doc, _ = sv.call("PUT", "/v1/applications/%s/materials/assessment" % app,
                         b"\x89PNG\r\n\x1a\n" + os.urandom(100), ctype="application/pdf")
    assert st == 415, doc
    error(doc, "unsupported_type", "the body is image/png")
    st, doc, _ = sv.call("PUT", "/v1/applications/%s/materials/assessment" % app,
                         b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), ctype="image/png")
    assert st == 413, doc
    assert stack.psql("SELECT count(*) FROM elig_materials") == before
    # returned, resubmitted, then the same reviewer at two levels is refused
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app,
                         {"decision": "return", "reason": "缺少医院出具的诊断证明"})
    assert st == 200 and doc["state"] == "returned", doc
    st, doc, _ = sv.call("POST", "/v1/applications/%s/resubmission" % app)
    assert st == 200 and doc["state"] == "submitted", doc
    st, a, _ = sv.call("GET", "/v1/applications/" + app)
    assert a["history"][1]["reason"] == "缺少医院出具的诊断证明", a["history"]
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 200, doc
    stack.psql("UPDATE elig_operators SET role = 'town', area = '东门街道' WHERE operator_id = "
               "'api-r-%s'" % run)
    st, doc, _ = sv.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 409, doc
    error(doc, "conflict", "decided it at the village level already")
    # signed out: the cookie is worth nothing; an expired session neither
    st, doc, r = sv.call("DELETE", "/v1/session")
    assert st == 200 and "Max-Age=0" in r.getheader("Set-Cookie"), doc
    st, doc, _ = sv.call("GET", "/v1/me")
    assert st == 401, doc
    s2 = signed_in(el, "api-x-" + run, "village", "新港社区")
    stack.psql("UPDATE elig_sessions SET expires_at = now() - interval '1 second' WHERE "
               "operator_id = 'api-x-%s'" % run)
    st, doc, _ = s2.call("GET", "/v1/applications")
    assert st == 401, doc
    error(doc, "unauthorized", "expired")


def test_the_daemon_escalates_an_overdue_application_once(el):
    stack, run = el["stack"], el["run"]
    sv = bearer(el, "api-s-" + run, "village", "水库社区")
    pid, _ = child(el, village="水库社区")
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]})
    app = doc["application_id"]
    stack.psql("UPDATE elig_applications SET stage_since = now() - interval '20 days' WHERE "
               "application_id = '%s'" % app)
    stack.run("stop", "eligibility")
    try:
        stack.run("start", "eligibility", env={"ONECARD_REVIEW_SWEEP_S": "1"})
        wait_for(lambda: stack.psql("SELECT count(*) FROM elig_application_history WHERE "
                                    "application_id = '%s' AND to_state = 'escalated'" % app) == "1",
                 20, "the daemon's sweep")
        time.sleep(2.5)  # two sweeps more: still once
        assert stack.psql("SELECT count(*) FROM elig_application_history WHERE application_id = "
                          "'%s' AND to_state = 'escalated'" % app) == "1"
    finally:
        stack.run("stop", "eligibility")
        stack.run("start", "eligibility")
    st, q, _ = sv.call("GET", "/v1/applications")
    assert q["applications"][0]["application_id"] == app and q["applications"][0]["overdue"], q
    assert q["overdue"] >= 1


def test_a_guessed_password_locks_the_operator_and_the_address_is_throttled(el):
    stack, run = el["stack"], el["run"]
    add_operator(el, "api-l-" + run, "village", "湖贝社区")
    a = Api(stack.operator_port)
    for _ in range(5):
        st, doc = a.sign_in("api-l-" + run, "wrong password!")
        assert st == 401, doc
        error(doc, "unauthorized", "wrong operator or password")
    st, doc = a.sign_in("api-l-" + run)  # the right one, too late
    assert st == 423, doc
    error(doc, "locked", "locked until")
    # the address: a burst, then one attempt every few seconds
    codes = [a.sign_in("nobody-" + run, "x")[0] for _ in range(25)]
    assert 429 in codes and codes[0] == 401, codes


def test_the_api_answers_after_postgresql_restarts(el):
    """PostgreSQL stopped and started while the daemon's connection is idle
    (an upgrade, a failover): the connection is closed under the daemon, and
    the next request is answered all the same — the API sees the server's
    goodbye before it queries, and reconnects."""
    from test_ledger import pg_ctl
    run = el["run"]
    sv = bearer(el, "api-pg-" + run, "village", "湖贝社区")
    st, doc, _ = sv.call("GET", "/v1/applications")
    assert st == 200, doc
    pg_ctl(el["stack"], "stop")
    r = el["stack"].run("up", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    st, doc, _ = sv.call("GET", "/v1/applications")
    assert st == 200, doc
    assert doc["level"] == "village", doc


def test_an_approval_after_redis_restarts_reaches_the_card(el):
    """Redis stopped and started while the daemon's connection is idle: the
    approval over HTTP still puts the item on the card (the daemon sees the
    closed connection before it writes, and connects again), and the
    answer says the change was published."""
    stack, run = el["stack"], el["run"]
    sv = bearer(el, "api-rv-" + run, "village", "湖贝社区")
    st_ = bearer(el, "api-rt-" + run, "town", "东门街道")
    sd = bearer(el, "api-rd-" + run, "district", "罗湖区")
    pid, card = child(el)
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]})
    assert st == 201, doc
    app = doc["application_id"]
    for a in (sv, st_):
        st, doc, _ = a.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
        assert st == 200, doc
    r = stack.run("stop", "redis", timeout=60)
    assert "stopped" in r.stdout, r.stdout + r.stderr
    r = stack.run("up", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    st, doc, _ = sd.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
    assert st == 200 and doc["state"] == "approved" and doc["published"], doc
    wait_for(lambda: redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "1", 10,
             "the card to carry the item")


def test_an_approval_made_while_redis_is_down_reaches_the_card_and_the_topic_later(el):
    """Redis is down when the district approves: the approval is recorded
    and answered "published": false (the card could not be written, so its
    event waits too); once Redis is back, the daemon's outbox projects the
    card and sends the event, once, with the id it was recorded with."""
    stack, run = el["stack"], el["run"]
    sv = bearer(el, "api-ov-" + run, "village", "湖贝社区")
    st_ = bearer(el, "api-ot-" + run, "town", "东门街道")
    sd = bearer(el, "api-od-" + run, "district", "罗湖区")
    pid, card = child(el)
    st, doc, _ = sv.call("POST", "/v1/applications", {"person_id": pid, "items": ["R02-AUTISM"]})
    assert st == 201 and doc["published"], doc
    app = doc["application_id"]
    for a in (sv, st_):
        st, doc, _ = a.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
        assert st == 200 and doc["published"], doc
    r = stack.run("stop", "redis", timeout=60)
    assert "stopped" in r.stdout, r.stdout + r.stderr
    try:
        st, doc, _ = sd.call("POST", "/v1/applications/%s/decisions" % app, {"decision": "pass"})
        assert st == 200 and doc["state"] == "approved" and doc["published"] is False, doc
        assert stack.psql("SELECT to_state FROM elig_application_history WHERE application_id "
                          "= '%s' AND NOT published" % app) == "approved"
    finally:
        r = stack.run("up", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
    wait_for(lambda: redis(stack, "HEXISTS", card_key(card), "e:R02-AUTISM") == "1", 30,
             "the outbox to put the item on the card")
    wait_for(lambda: stack.psql("SELECT count(*) FROM elig_application_history WHERE "
                                "application_id = '%s' AND NOT published" % app) == "0", 30,
             "the outbox to send the approval")
    out = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.applications.v1",
                          "-e", "-q", "-f", "%k %h\n"], capture_output=True, text=True,
                         timeout=60).stdout
    mine = [line for line in out.splitlines() if line.startswith(app + " ")]
    assert len(mine) == 4, mine  # submitted, village, town, approved: each once
    ids = stack.psql("SELECT event_id FROM elig_application_history WHERE application_id = '%s' "
                     "ORDER BY seq" % app).split()
    assert len(ids) == 4 and all(any("ce_id=" + i in line for line in mine) for i in ids), \
        (ids, mine)


def test_providers_and_the_catalogue_are_read_over_http(el):
    """The providers (designations, terminals, never a secret) and the
    items in force, for every signed-in role; bad filters refused."""
    stack, run = el["stack"], el["run"]
    fin = bearer(el, "api-pf-" + run, "finance", "*")
    provider, tid = "PPRV" + run, "TPRV" + run
    elig(stack, "provider", "add", provider, "--name", "罗湖区听力康复中心", "--district", "罗湖区",
         "--category", "rehabilitation", "--items", "R03-HEARING-CHILD,R02-AUTISM", "--actor",
         "test")
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    secret = out.split("secret ")[1].split()[0]
    st, doc, _ = fin.call("GET", "/v1/providers?item=R03-HEARING-CHILD")
    assert st == 200, doc
    mine = [p for p in doc["providers"] if p["provider_id"] == provider]
    assert mine and mine[0]["items"] == ["R02-AUTISM", "R03-HEARING-CHILD"], doc
    assert mine[0]["terminals"] == 1 and mine[0]["status"] == "active", mine
    assert all("R03-HEARING-CHILD" in p["items"] for p in doc["providers"]), doc
    st, doc, r = fin.call("GET", "/v1/providers/" + provider, raw=True)
    assert st == 200 and secret.encode() not in doc, doc
    doc = json.loads(doc)
    assert doc["name"] == "罗湖区听力康复中心" and doc["district"] == "罗湖区", doc
    assert [t["terminal_id"] for t in doc["terminal_list"]] == [tid], doc
    st, doc, _ = fin.call("GET", "/v1/providers/NOPE" + run)
    assert st == 404, doc
    error(doc, "not_found", "no provider")
    st, doc, _ = fin.call("GET", "/v1/providers?item=r03")
    assert st == 400, doc
    error(doc, "invalid", "item must be an item code")
    st, doc, _ = fin.call("GET", "/v1/providers/bad%20id")
    assert st == 404, doc
    st, doc, _ = fin.call("GET", "/v1/catalogue")
    assert st == 200 and doc["total"] == len(doc["items"]) >= 39, doc
    # the catalogue version in force today, named (0028)
    assert doc["version_id"] == int(stack.psql(
        "SELECT elig_catalogue_version_at((now() AT TIME ZONE 'UTC' + interval '8 hours')::date)"
    )), doc
    r03 = [i for i in doc["items"] if i["code"] == "R03-HEARING-CHILD"][0]
    assert r03["application"] is True and "evidence=" in r03["eligibility"], r03
    assert isinstance(r03["standard_fen"], int) and r03["standard_fen"] > 0, r03
    st, doc, _ = Api(stack.operator_port).call("GET", "/v1/catalogue")
    assert st == 401, doc
