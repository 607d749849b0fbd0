#!/usr/bin/env python3
"""services: the demo's items that start from a document, not the calendar,
through the real commands and the real terminal API:

    tools/demo/services.py --port 8080 --redis-port 16379 [--seed 1] > OUT.json
    tools/demo/services.py --applications N [--seed 1] > OUT.json

- applications (before the month is issued): for each item the catalogue
  grants only by application (children's rehabilitation), N children the
  item's rule admits (onecard-eligibility person eligible) apply (a guardian applies for every other one) and
  are passed by the reviewers of their village, town and district, each an
  operator signed in with a session of their own (made on demand: one per
  area and level); one more is returned for materials and resubmitted,
  and one is rejected;

- quote (cataract surgery, hearing aids, barrier-free renovation): for each
  item a person entitled to it (read from their card's entitlements in
  Redis) and a designated provider with a terminal; the provider's quote is
  submitted and approved (`onecard-eligibility quote`), the credit reaches
  the card, and the person spends it at that provider in two swipes; a
  swipe at another designated provider is declined (provider_not_quoted);
- reimburse (medication, insurance, the family doctor, …): for each item an
  entitled person's paid invoice is recorded (`onecard-eligibility
  reimburse record`), paid into the person's own account with the month's
  person payout; the same invoice again is refused.

The environment is the stack's (ONECARD_PG_DSN, ONECARD_BUILD, …). Prints
what was done as JSON; exits 1 when an item found no entitled person.
"""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from traffic import Terminal  # noqa: E402

BIN = os.path.join(os.environ.get("ONECARD_BUILD", "build"), "bin")


def psql(q):
    dsn = os.environ["ONECARD_PG_DSN"]
    out = subprocess.run(["psql", "-X", "-A", "-t", "-q", "-F", "\t", "-d", dsn, "-c", q],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def elig(*args):
    return subprocess.run([os.path.join(BIN, "onecard-eligibility")] + list(args),
                          capture_output=True, text=True)


def card_tag(card):
    h = 0x811C9DC5
    for b in card.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return "%08x" % h


def redis_lines(port, commands):
    r = subprocess.run(["redis-cli", "-p", str(port)], input="\n".join(commands) + "\n",
                       capture_output=True, text=True, check=True)
    return r.stdout.split("\n")


def national_id(birth, seq):
    """A valid 18-character national id (GB 11643 check character)."""
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = "440303%s%03d" % (birth.replace("-", ""), seq % 1000)
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w)) % 11]


def applications(n):
    """The applications step: returns what it did."""
    out = {"approved": [], "returned": [], "rejected": [], "missing": []}
    sessions = {}

    def session(role, area):
        if (role, area) not in sessions:
            oid = "%s-%d" % (role, len(sessions) + 1)
            for cmd in (["operator", "add", oid, "--role", role, "--area", area,
                         "--actor", "demo-admin"], ["operator", "login", oid]):
                r = subprocess.run([os.path.join(BIN, "onecard-eligibility")] + cmd,
                                   input="demo password 2026\n", capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit("services: %s: %s" % (" ".join(cmd[:2]), r.stderr.strip()))
            sessions[(role, area)] = (oid, r.stdout.split()[1])
        return sessions[(role, area)]

    def decide(app, areas, upto, last="pass", reason=None):
        for role, area in zip(("village", "town", "district"), areas):
            decision = last if role == upto else "pass"
            args = ["application", "decide", app, "--decision", decision,
                    "--session", session(role, area)[1]]
            if reason and decision != "pass":
                args += ["--reason", reason]
            r = elig(*args)
            if r.returncode != 0:
                raise SystemExit("services: %s" % r.stderr.strip())
            if role == upto:
                return

    codes = [r[0] for r in psql("SELECT code FROM elig_catalogue_items WHERE application "
                                "ORDER BY code")]
    for code in codes:
        # the children the item's rule admits (onecard-eligibility person eligible)
        r = elig("person", "eligible", code, "--limit", str(4 * (n + 2)))
        who = [line.split("\t") for line in r.stdout.splitlines() if line]
        done = 0
        for k, (pid, village, town, district) in enumerate(who):
            if done >= n + 2:
                break
            args = ["application", "submit", pid, "--items", code, "--actor", "demo-service-desk"]
            if done % 2 == 1:
                args += ["--agent-relation", "guardian",
                         "--agent-id", national_id("1985-06-15", k)]
            r = elig(*args)
            if r.returncode != 0:
                continue  # refused (printed by the command): try the next child
            app = r.stdout.split()[1].rstrip(":")
            areas = (village, town, district)
            if done < n:
                decide(app, areas, "district")
                out["approved"].append({"application": app, "item": code, "person": pid[:12],
                                        "village": village, "agent": done % 2 == 1})
            elif done == n:
                decide(app, areas, "village", "return", "the assessment form is missing")
                r = elig("application", "resubmit", app, "--actor", "demo-service-desk")
                decide(app, areas, "district")
                out["returned"].append({"application": app, "item": code, "person": pid[:12]})
            else:
                decide(app, areas, "town", "reject", "not in training at a designated provider")
                out["rejected"].append({"application": app, "item": code, "person": pid[:12]})
            done += 1
        if done == 0:
            out["missing"].append(code)
    # a two-year-old without a certificate (a suspected speech disability,
    # seed 001), registered by the service desk and applied for by a guardian
    village, town, district = psql("SELECT village, town, district FROM elig_persons "
                                   "ORDER BY person_id LIMIT 1")[0]
    today = datetime.date.today()
    birth = today.replace(year=today.year - 2, day=1).isoformat()
    r = elig("person", "add", "--national-id", national_id(birth, 7), "--name", "疑似言语儿童",
             "--category", "speech", "--evidence", "suspected", "--care-level", "0",
             "--birth", birth, "--district", district, "--town", town, "--village", village,
             "--household", "none", "--actor", "demo-service-desk")
    if r.returncode == 0:
        pid = r.stdout.split()[1]
        elig("card", "issue", pid, "--pin", "123456", "--actor", "demo-service-desk")
        r = elig("application", "submit", pid, "--items", "R03-HEARING-CHILD",
                 "--agent-relation", "guardian", "--agent-id", national_id("1994-02-01", 8),
                 "--actor", "demo-service-desk")
        if r.returncode == 0:
            app = r.stdout.split()[1].rstrip(":")
            decide(app, (village, town, district), "district")
            out["uncertified"] = {"application": app, "item": "R03-HEARING-CHILD",
                                  "person": pid[:12], "evidence": "suspected"}
    if "uncertified" not in out:
        out["missing"].append("uncertified child: " + r.stderr.strip())
    out["operators"] = sorted("%s %s %s" % (oid, role, area)
                              for (role, area), (oid, _) in sessions.items())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--redis-port", type=int, default=16379)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--applications", type=int, default=0,
                    help="the applications step (before the month is issued): N approvals an item")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.applications > 0:
        out = applications(args.applications)
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        return 1 if out["missing"] else 0
    items = {r[0]: r[1] for r in psql("SELECT code, kind FROM elig_catalogue_items WHERE kind IN "
                                      "('quote', 'reimburse') ORDER BY code")}
    codes = sorted(items)
    # cards that made no swipe in the last 10 minutes: a quote spent at its
    # provider is then not a provider hop (settlement holds a card seen at two
    # providers within 300 s)
    cards = psql("SELECT card_no, person_id FROM elig_cards k WHERE status = 'active' AND NOT "
                 "EXISTS (SELECT 1 FROM ledger_entries e WHERE e.card_no = k.card_no AND e.kind "
                 "= 'swipe' AND e.occurred_at_ms > (extract(epoch FROM now()) * 1000)::bigint - "
                 "600000) ORDER BY card_no")
    # every card's entitlements to these items, one pipeline
    lines = redis_lines(args.redis_port, [
        "HMGET card:{c:%s}:%s %s" % (card_tag(c), c, " ".join("e:" + x for x in codes))
        for c, _ in cards])
    entitled = {x: [] for x in codes}
    for i, (card, pid) in enumerate(cards):
        for k, x in enumerate(codes):
            if lines[i * len(codes) + k].strip():
                entitled[x].append((card, pid))
    terms = {}
    for tid, secret, prov, titems in psql(
            "SELECT t.terminal_id, t.secret, t.provider_id, string_agg(d.item_code, ',') FROM "
            "elig_terminals t JOIN elig_providers p USING (provider_id) JOIN elig_designations d "
            "USING (provider_id) WHERE t.status = 'active' AND p.status = 'active' GROUP BY 1, "
            "2, 3 ORDER BY 1"):
        terms[prov] = Terminal(args.port, {"id": tid, "secret": secret, "provider": prov,
                                           "items": titems.split(",")})
    out = {"quotes": [], "reimbursements": [], "again": [], "refused": [], "missing": []}
    today = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date().isoformat()
    run = uuid.uuid4().hex[:8]
    for x in codes:
        who = entitled[x]
        if not who:
            out["missing"].append(x)
            continue
        card, pid = rng.choice(who)
        cap = int(psql("SELECT annual_cap_fen FROM elig_catalogue_items WHERE code = '%s'"
                       % x)[0][0])
        if items[x] == "reimburse":
            fen = cap * rng.randint(20, 60) // 100
            inv = "INV-%s-%s" % (run, x)
            r = elig("reimburse", "record", pid, "--item", x, "--amount", str(fen), "--invoice",
                     inv, "--paid-on", today, "--actor", "demo-finance")
            if r.returncode != 0:
                out["refused"].append({"item": x, "why": r.stderr.strip()})
                continue
            out["reimbursements"].append({"item": x, "id": r.stdout.split()[1].rstrip(":"),
                                          "fen": fen, "person": pid[:12]})
            again = elig("reimburse", "record", pid, "--item", x, "--amount", str(fen),
                         "--invoice", inv, "--paid-on", today, "--actor", "demo-finance")
            if again.returncode == 1:  # the same invoice twice: refused, as it must be
                out["again"].append({"item": x, "why": again.stderr.strip()})
            else:
                out["refused"].append({"item": x, "why": "the same invoice was refunded twice"})
            continue
        provs = [p for p, t in terms.items() if x in t.items]
        if not provs:
            out["missing"].append(x)
            continue
        prov = rng.choice(provs)
        fen = cap * rng.randint(50, 90) // 100
        r = elig("quote", "submit", pid, "--item", x, "--provider", prov, "--amount", str(fen),
                 "--reference", "Q-%s-%s" % (run, x), "--actor", "demo-" + prov)
        if r.returncode != 0:
            out["refused"].append({"item": x, "why": r.stderr.strip()})
            continue
        qid = r.stdout.split()[1].rstrip(":")
        r = elig("quote", "approve", qid, "--actor", "demo-district")
        q = {"item": x, "quote": qid, "provider": prov, "fen": fen, "person": pid[:12],
             "approved": r.returncode == 0, "swipes": []}
        out["quotes"].append(q)
        key = "wallet:{c:%s}:%s" % (card_tag(card), card)
        deadline = time.time() + 60
        while time.time() < deadline:
            bal = redis_lines(args.redis_port, ["HGET %s %s" % (key, x)])[0].strip()
            if bal and int(bal) >= fen:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # the gateway's directory refresh
        others = [p for p in provs if p != prov]
        if others:
            st, doc = terms[others[0]].post("/v1/swipes", {
                "request_id": uuid.uuid4().hex, "card_no": card, "pin": "123456",
                "item_code": x, "amount_fen": 1000})
            q["swipes"].append({"provider": others[0], "fen": 1000,
                                "answer": doc.get("decision"), "reason": doc.get("reason")})
        for part in (fen * 2 // 3, fen - fen * 2 // 3):
            st, doc = terms[prov].post("/v1/swipes", {
                "request_id": uuid.uuid4().hex, "card_no": card, "pin": "123456",
                "item_code": x, "amount_fen": part})
            q["swipes"].append({"provider": prov, "fen": part, "answer": doc.get("decision"),
                                "reason": doc.get("reason")})
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    return 1 if out["missing"] or out["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
