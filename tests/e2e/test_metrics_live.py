"""The monitoring picture is live: a real Prometheus (Debian's package)
scrapes the five daemons of the end-to-end stack while traffic goes through
them (a catalogue, budgets, a provider and terminal, persons with cards, an
entitlement run, approved and declined swipes, a reversal, a rating, an
eligibility feed file, a message no consumer can read), loads the alert
rules of deploy/prometheus/alerts.yml, and every query of every dashboard of
deploy/grafana/dashboards and every alert expression is evaluated through
its HTTP API:

- a dashboard query must return data;
- every series a query or an alert selects (`onecard_...{...}`, `up{...}`)
  must exist; an alert's whole expression must evaluate (it may be empty: a
  comparison that is not true is a quiet alert, not a dead one);
- a series that only exists after an event may be listed in
  metrics_event_only.txt with the reason; it must then still be a name some
  C source of libs/ or services/ registers, and every entry must be used.

So a metric renamed in C but not in a dashboard or an alert (or the other
way round) fails here.
"""
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time
import urllib.parse
import uuid

import pytest
import yaml

from conftest import PORTS, REPO, SERVICES, http_get, kcat, port_open
from gateway_client import Terminal
from test_eligibility import CATALOGUE, PERIOD, catalogue_funds, catalogue_items, elig, ledger, \
    national_id, wait_for, wallet

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARDS = sorted(glob.glob(os.path.join(REPO, "deploy", "grafana", "dashboards", "*.json")))
ALERTS = os.path.join(REPO, "deploy", "prometheus", "alerts.yml")
EVENT_ONLY = os.path.join(HERE, "metrics_event_only.txt")
PROM_PORT = PORTS["ONECARD_ADMIN_BASE_PORT"] + 90
# the `service` label of deploy/prometheus/prometheus.yml, by the stack's name
SERVICE_LABEL = {"gateway": "card-gateway"}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "inf", "nan", "le"}


# ------------------------------------------------------------ what to check

def dashboard_queries():
    """(where, expr) of every target of every panel, rows' panels included."""
    out = []
    for path in DASHBOARDS:
        with open(path) as f:
            d = json.load(f)
        stack = list(d.get("panels", []))
        while stack:
            p = stack.pop(0)
            stack.extend(p.get("panels", []))
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append(("%s: %s" % (os.path.basename(path), p["title"]), t["expr"]))
    return out


def alert_queries():
    with open(ALERTS) as f:
        doc = yaml.safe_load(f)
    return [("alert " + r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"]
            if "alert" in r]


def selectors(expr):
    """The vector selectors of a PromQL expression (name and matchers, as
    written): every identifier that is not a function, a keyword, a
    grouping label or inside a string."""
    def blank(m):  # the same length, so that offsets stay those of expr
        return " " * len(m.group(0))
    e = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + "x" * (len(m.group(0)) - 2) + '"', expr)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", blank, e)
    e = re.sub(r"\[[^\]]*\]", blank, e)  # ranges
    out = []
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?(\s*\()?", e):
        name, matchers, call = m.group(1), m.group(2), m.group(3)
        if m.start() > 0 and e[m.start() - 1] in "\"{,=~!":
            continue  # a label name or value inside matchers
        if call and not matchers or name.lower() in KEYWORDS:
            continue
        out.append(expr[m.start():m.end(2)] if matchers else name)
    return out


def family(selector):
    """The metric family of a selector: histogram series share their family's name."""
    name = selector.split("{")[0]
    return re.sub(r"_(bucket|sum|count)$", "", name)


def event_only():
    """metric family -> reason, from metrics_event_only.txt."""
    out = {}
    with open(EVENT_ONLY) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            assert reason.strip(), "%s: %s has no reason" % (EVENT_ONLY, name)
            out[name] = reason.strip()
    return out


def registered_in_c(name):
    """True when some C source of libs/ or services/ spells the name."""
    for path in glob.glob(os.path.join(REPO, "libs", "**", "*.c"), recursive=True) + \
            glob.glob(os.path.join(REPO, "services", "**", "*.c"), recursive=True):
        with open(path, errors="replace") as f:
            if '"%s"' % name in f.read():
                return True
    return False


# ----------------------------------------------------------------- prometheus

def prometheus_binary():
    p = shutil.which("prometheus")
    if p is None:
        pytest.fail("prometheus is not installed (Debian package prometheus; ./onecard test "
                    "installs it): the live check of the dashboards and alerts cannot run")
    return p


@pytest.fixture(scope="module")
def prometheus(stack, tmp_path_factory):
    binary = prometheus_binary()
    work = tmp_path_factory.mktemp("prometheus")
    targets = [{"targets": ["127.0.0.1:%d" % stack.admin_port(s)],
                "labels": {"service": SERVICE_LABEL.get(s, s)}} for s in SERVICES]
    config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                         "evaluation_interval": "1s"},
              "rule_files": [ALERTS],
              "scrape_configs": [{"job_name": "onecard", "metrics_path": "/metrics",
                                  "static_configs": targets}]}
    cfg = work / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(config))
    assert not port_open(PROM_PORT), "port %d is taken" % PROM_PORT
    log = open(work / "prometheus.log", "w")
    proc = subprocess.Popen([binary, "--config.file=%s" % cfg,
                             "--storage.tsdb.path=%s" % (work / "data"),
                             "--web.listen-address=127.0.0.1:%d" % PROM_PORT,
                             "--storage.tsdb.retention.time=1h"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 30
        while http_get("http://127.0.0.1:%d/-/ready" % PROM_PORT, timeout=1)[0] != 200:
            assert proc.poll() is None, open(work / "prometheus.log").read()[-3000:]
            assert time.time() < deadline, "prometheus not ready in 30 s"
            time.sleep(0.2)
        yield "http://127.0.0.1:%d" % PROM_PORT
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def query(base, expr):
    """(ok, result list or error text) of an instant query."""
    code, body = http_get("%s/api/v1/query?%s" % (base, urllib.parse.urlencode({"query": expr})),
                          timeout=10)
    try:
        doc = json.loads(body)
    except ValueError:
        return False, "HTTP %s: %s" % (code, body[:300])
    if doc.get("status") != "success":
        return False, "%s: %s" % (doc.get("errorType"), doc.get("error"))
    return True, doc["data"]["result"]


# -------------------------------------------------------------------- traffic

def traffic(stack):
    """Something of everything the dashboards show."""
    run = "%04d" % random.randrange(10 ** 4)
    elig(stack, "catalogue", "load", CATALOGUE, "--actor", "test")
    for fund in catalogue_funds():
        ledger(stack, "allocate", "--fund", fund, "--year", "2026", "--amount-fen",
               "100000000000", "--ref", "live-%s-f-%s" % (run, fund))
    for prog in {it["programme"] for it in catalogue_items()}:
        ledger(stack, "allocate", "--programme", prog, "--year", "2026", "--amount-fen",
               "10000000000", "--ref", "live-%s-p-%s" % (run, prog))
    elig(stack, "provider", "add", "PM" + run, "--name", "福田区康复中心", "--district", "福田区",
         "--category", "rehabilitation", "--items", "R01-LIMB,R07-DEVICES", "--actor", "test")
    out = elig(stack, "terminal", "add", "TM" + run, "--provider", "PM" + run,
               "--actor", "test").stdout
    term = Terminal(stack.gateway_port, "TM" + run, out.split("secret ")[1].split()[0])
    nid = national_id("1975-03-02", int(run) * 10 + 7)
    pid = elig(stack, "person", "add", "--national-id", nid, "--name", "测试", "--category",
               "limb", "--grade", "1", "--care-level", "3", "--birth", "1975-03-02",
               "--district", "福田区", "--town", "园岭街道", "--village", "百花社区",
               "--household", "none", "--since", "2026-01-01", "--actor", "test").stdout.split()[1]
    card = elig(stack, "card", "issue", pid, "--pin", "123456", "--actor", "test").stdout.split()[1]
    time.sleep(2.5)  # the gateway's directory refresh
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")  # top-ups
    wait_for(lambda: wallet(stack, card, "R01-LIMB") > 0, 30, "the top-up in the wallet")
    approved = []
    for _ in range(3):
        _, doc = term.swipe(card, 1000, item="R01-LIMB")
        assert doc["decision"] == "approved", doc
        approved.append(doc["swipe_id"])
    for pin, item in (("000000", "R01-LIMB"), ("123456", "R07-DEVICES"), ("123456", "NOPE")):
        _, doc = term.swipe(card, 1000, item=item, pin=pin)
        assert doc.get("decision") == "declined", doc
    st, doc = term.reverse(approved[0])
    assert st in (200, 202), doc
    st, doc = term.rate(approved[1], 5)
    assert st in (200, 202), doc
    feed = os.path.join(stack.state, "live-feed-%s.csv" % run)
    with open(feed, "w") as f:
        f.write("national_id,change,effective_date,household,grade\n"
                "%s,household,2026-11-16,dibao,\n" % nid)
    elig(stack, "import-feed", feed, "--source", "civil-affairs", "--period", PERIOD)
    # a message of an unknown type: the ledger and rating dead-letter it
    subprocess.run([*kcat(), "-P", "-b", stack.brokers, "-t", "onecard.swipes.v1",
                    "-H", "ce_id=live-%s" % uuid.uuid4(), "-H", "ce_type=onecard.v1.Nope"],
                   input=b"not an event", check=True, timeout=30)


# ---------------------------------------------------------------------- check

def problems(base, items, allowed):
    """What is not live: a list of lines, empty when all is."""
    out, seen = [], set()
    for where, expr in items:
        fams = {family(s) for s in selectors(expr)}
        ok, res = query(base, expr)
        if not ok:
            out.append("%s: does not evaluate: %s\n    %s" % (where, res, expr))
            continue
        if not where.startswith("alert ") and not res and not fams <= set(allowed):
            out.append("%s: no data\n    %s" % (where, expr))
        for sel in selectors(expr):
            if sel in seen or family(sel) in allowed:
                continue
            ok, res = query(base, "count(%s)" % sel)
            if not ok or not res:
                out.append("%s: no series %s" % (where, sel))
            else:
                seen.add(sel)
    return out


def test_every_dashboard_query_and_alert_is_live(stack, prometheus):
    items = dashboard_queries() + alert_queries()
    assert len([i for i in items if not i[0].startswith("alert ")]) >= 20, items
    allowed = event_only()
    used = {family(s) for _, e in items for s in selectors(e)}
    stale = sorted(set(allowed) - used)
    assert not stale, "%s lists series no dashboard or alert uses: %s" % (EVENT_ONLY, stale)
    unknown = sorted(n for n in allowed if not registered_in_c(n))
    assert not unknown, "%s lists series no C source registers: %s" % (EVENT_ONLY, unknown)

    t0 = time.time()
    traffic(stack)
    # every target scraped after the traffic, twice (rate() and increase() need two samples)
    time.sleep(3)
    deadline = time.time() + 30
    while True:
        left = problems(prometheus, items, allowed)
        if not left or time.time() > deadline:
            break
        time.sleep(2)
    print("\n[metrics] %d dashboard queries and alerts, %d series checked live in %.0f s"
          % (len(items), len({s for _, e in items for s in selectors(e)}), time.time() - t0))
    assert not left, "not live (rename in C, dashboards and alerts together; docs/metrics.md):" \
                     "\n  " + "\n  ".join(left)
    values_are_right(prometheus)
    sample(prometheus, [i for i in items if not i[0].startswith("alert ")])


def total(base, expr):
    ok, res = query(base, expr)
    assert ok, res
    return sum(float(r["value"][1]) for r in res)


def values_are_right(base):
    """The gauges read from tables hold what the traffic did: the light
    reconcile ran and found nothing, the top-ups were granted from the
    funds and the programme budgets, settlement saw them credited and the
    swipes spent, and the swipes are counted by their item's category."""
    def settled():
        return (total(base, 'onecard_ledger_light_reconcile_last_success_timestamp_seconds') > 0
                and total(base, 'onecard_ledger_budget_fen{level="fund",state="granted"}') > 0
                and total(base, 'onecard_settlement_fund_usage_fen{state="spent"}') > 0)
    wait_for(settled, 30, "the ledger's watch and settlement's usage gauges")
    ok, res = query(base, "onecard_ledger_light_reconcile_difference_fen")
    assert ok and {r["metric"]["check"]: r["value"][1] for r in res} == \
        {"conservation": "0", "balances": "0"}, res
    assert total(base, "onecard_ledger_light_reconcile_wallets_checked") >= 0
    assert total(base, 'onecard_ledger_budget_fen{level="programme",state="granted"}') > 0
    assert total(base, 'onecard_ledger_budget_fen{level="programme",state="allocated"}') >= \
        total(base, 'onecard_ledger_budget_fen{level="programme",state="granted"}')
    assert total(base, 'onecard_settlement_fund_usage_fen{state="credited"}') >= \
        total(base, 'onecard_settlement_fund_usage_fen{state="spent"}')
    assert total(base, 'onecard_gateway_swipes_total{item="R01-LIMB",category="rehabilitation",'
                       'decision="approved"}') >= 3
    assert total(base, 'onecard_gateway_swipes_total{item="NOPE",category="unknown",'
                       'decision="declined"}') >= 1
    assert total(base, "onecard_ledger_light_reconcile_duration_seconds_count") >= 1


def sample(base, items):
    """Prints each dashboard query's live values (a few series each), for the record."""
    for where, expr in items:
        ok, res = query(base, expr)
        vals = ["%s=%s" % (",".join("%s" % v for k, v in sorted(r["metric"].items())
                                    if k not in ("job", "instance")) or "-", r["value"][1])
                for r in (res if ok else [])[:4]]
        print("[metrics] %s: %s" % (where, "; ".join(vals) or "(none)"))


def test_alert_rules_load_and_none_fires_on_a_healthy_stack(prometheus):
    """The rules Prometheus loaded are the file's, all healthy; a clean stack fires nothing
    critical (a rule that cannot evaluate shows health "err")."""
    code, body = http_get(prometheus + "/api/v1/rules")
    assert code == 200, body
    rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
    assert len(rules) == len(alert_queries()), [r["name"] for r in rules]
    bad = [(r["name"], r.get("lastError")) for r in rules if r.get("health") == "err"]
    assert not bad, bad
    firing = [r["name"] for r in rules if r["state"] == "firing"
              and any(a["labels"].get("severity") == "critical" for a in r.get("alerts", []))]
    assert not firing, firing
