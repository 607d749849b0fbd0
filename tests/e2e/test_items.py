"""The whole service list against the real stack: seven persons chosen so
that, between them, they are entitled to every one of the catalogue's 39
items, and each item is used the way it is delivered (its kind):

- credit: issued for the month and swiped at a designated provider, up to
  the item's standard amount per swipe;
- priced: the year's credit issued a twelfth a month, swiped a whole number
  of sessions at the item's price, within the daily cap;
- quote: a designated provider's quote submitted and approved, credited to
  the card, spent only at that provider;
- reimburse: a paid invoice recorded, checked against the rule and the cap,
  paid into the person's own account;
- cash: issued for the month and paid into the person's own account; never
  swiped.

Then the ledger (per item, per wallet and per payee account), Redis and
`reconcile` agree to the fen; settlement closes the day (its statement of
the provider and what it owes each person equal the swipes and the
payments, reconciled per person with the ledger); and every refusal the
issue names is made with its reason and changes nothing. (The monthly
person payout file, with its control totals and the persons without an
account, is tested on months of their own in test_settlement.py, which a
month closed here would disturb.)
"""
import datetime
import time

import pytest

from gateway_client import Terminal
from test_eligibility import el  # noqa: F401 (the fixture)
from test_eligibility import (approve_items, card_key, catalogue_items, elig, ledger, national_id,
                              payee_money, reconciled, redis, tool, wait_for, wallet)

LOCAL = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
PERIOD = LOCAL.strftime("%Y-%m")


def years_ago(years, months=0):
    m = LOCAL.year * 12 + LOCAL.month - 1 - years * 12 - months
    return datetime.date(m // 12, m % 12 + 1, 1)


# (name, category, grade, care level, household, birth): between them, every item
PERSONS = [
    ("adult", "visual", 2, 0, "dibao", years_ago(20, 2)),
    ("child", "limb", 1, 3, "near-poor", years_ago(10, 2)),
    ("psy", "psychiatric", 3, 1, "dibao", years_ago(40)),
    ("toddler", "hearing", 2, 0, "none", years_ago(2, 1)),
    ("infant", "intellectual", 3, 0, "none", years_ago(0, 2)),
    ("preschool", "intellectual", 4, 0, "none", years_ago(4, 1)),
    ("teen", "limb", 4, 0, "none", years_ago(16, 2)),
]

# who uses each item
WHO = {
    "R01-LIMB": "child", "R02-AUTISM": "preschool", "R03-HEARING-CHILD": "toddler",
    "R04-INTELLECT-CHILD": "infant", "R05-CP-CHILD": "child", "R06-REHAB-LIVING": "child",
    "R07-DEVICES": "adult", "R08-PSY-MEDS": "psy", "R09-CATARACT": "adult",
    "R10-COMMUNITY": "adult", "R11-INFANT": "infant", "R12-HEARING-AID": "toddler",
    "E01-VOCATIONAL": "adult", "E02-STARTUP": "adult", "E03-FLEX-INSURANCE": "adult",
    "E04-MASSAGE": "adult", "E05-SHELTERED": "psy", "E06-INTERNSHIP": "adult",
    "E07-VOC-REHAB": "adult", "E08-JOB-TRANSPORT": "adult", "D01-COMPULSORY": "child",
    "D02-PRESCHOOL": "preschool", "D03-UPPER-SEC": "teen", "D04-UNIVERSITY": "adult",
    "D05-HOME-TEACHING": "child", "D06-SCHOOL-TRANSPORT": "child", "D07-ADULT-EDU": "adult",
    "D08-SIGN-BRAILLE": "adult", "S01-CARE": "child", "S02-LIVING": "adult",
    "S03-HOME-CARE": "adult", "S04-DAY-CARE": "psy", "S05-RESIDENTIAL": "child",
    "S06-BARRIER-FREE": "adult", "S07-PENSION": "adult", "S08-MEDICAL-INS": "adult",
    "S09-FAMILY-DOCTOR": "adult", "S10-WHEELCHAIR-FUEL": "child", "S11-TRANSPORT": "adult",
}


def terminal(el, provider, items):
    stack = el["stack"]
    elig(stack, "provider", "add", provider, "--name", "全项目服务机构", "--district", "罗湖区",
         "--category", "rehabilitation", "--items", ",".join(items), "--actor", "test")
    tid = "T" + provider
    out = elig(stack, "terminal", "add", tid, "--provider", provider, "--actor", "test").stdout
    return Terminal(stack.gateway_port, tid, out.split("secret ")[1].split()[0])


def register(el, name, category, grade, care, household, birth):
    el["seq"] += 1
    since = max(birth, datetime.date(2026, 1, 1)).isoformat()
    nid = national_id(birth.isoformat(), int(el["run"]) * 10 + el["seq"])
    out = elig(el["stack"], "person", "add", "--national-id", nid, "--name", "全项" + name,
               "--category", category, "--grade", str(grade), "--care-level", str(care),
               "--birth", birth.isoformat(), "--district", "罗湖区", "--town", "东门街道",
               "--village", "湖贝社区", "--household", household, "--since", since,
               "--actor", "test").stdout
    pid = out.split()[1]
    card = elig(el["stack"], "card", "issue", pid, "--pin", "123456",
                "--actor", "test").stdout.split()[1]
    return {"pid": pid, "card": card}


def approved(doc):
    return doc and doc.get("decision") == "approved"


def test_every_item_of_the_list_is_used_the_way_it_is_delivered(el, tmp_path):
    stack = el["stack"]
    items = {it["code"]: it for it in catalogue_items()}
    assert len(items) == 39 and set(items) == set(WHO)
    kinds = {}
    for code, it in items.items():
        kinds.setdefault(it["kind"], []).append(code)
    assert sorted(kinds) == ["cash", "credit", "priced", "quote", "reimburse"], kinds
    swipeable = kinds["credit"] + kinds["priced"] + kinds["quote"]
    run = el["run"]
    t = terminal(el, "PALL" + run, swipeable)
    other = terminal(el, "POTHER" + run, kinds["quote"])
    who = {p[0]: register(el, *p) for p in PERSONS}
    # the items the catalogue grants only by application: applied for and
    # approved at three levels
    apply = {}
    for code, it in items.items():
        if it["application"] == "yes":
            apply.setdefault(WHO[code], []).append(code)
    assert sorted(sum(apply.values(), [])) == ["R02-AUTISM", "R03-HEARING-CHILD",
                                               "R04-INTELLECT-CHILD", "R05-CP-CHILD",
                                               "R11-INFANT"], apply
    for name, codes in apply.items():
        approve_items(el, who[name]["pid"], codes)
    # every person is entitled, on the card, to the items they stand for
    for code, name in WHO.items():
        ent = redis(stack, "HEXISTS", card_key(who[name]["card"]), "e:" + code)
        assert ent == "1", "%s: %s is not entitled to %s" % (code, name, code)
    r = elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    grants = {}
    for line in stack.psql("SELECT i.item_code, i.person_id, i.amount_fen FROM elig_issuances "
                           "i WHERE i.period = '%s' AND i.person_id IN (%s)"
                           % (PERIOD, ",".join("'%s'" % p["pid"] for p in who.values()))
                           ).splitlines():
        code, pid, fen = line.split("|")
        grants[(code, pid)] = int(fen)
    issued = kinds["credit"] + kinds["priced"] + kinds["cash"]
    for code in issued:
        assert grants.get((code, who[WHO[code]]["pid"]), 0) > 0, \
            "%s not issued: %s" % (code, r.stdout)
    for code in kinds["quote"] + kinds["reimburse"]:
        assert not any(k[0] == code for k in grants), "%s was issued" % code

    # what each person is paid into their own account, and spends, per item
    paid = {name: sum(fen for (code, pid), fen in grants.items()
                      if pid == who[name]["pid"] and code in kinds["cash"]) for name in who}
    spent = {}
    for code in kinds["credit"] + kinds["priced"]:
        c = who[WHO[code]]["card"]
        g = grants[(code, who[WHO[code]]["pid"])]
        wait_for(lambda: wallet(stack, c, code) == g, 60, "the %s credit" % code)
    time.sleep(2.5)  # the gateway's directory refresh (the new providers)

    def swipe(code, amount, term=t, want="approved"):
        st, doc = term.swipe(who[WHO[code]]["card"], amount, item=code)
        assert st == 200, (code, st, doc)
        got = doc["decision"] if want == "approved" else doc.get("reason")
        assert got == want, (code, amount, doc)
        if want == "approved":
            spent[code] = spent.get(code, 0) + amount
        return doc

    # credit: up to the standard amount per swipe
    for code in kinds["credit"]:
        it = items[code]
        g = grants[(code, who[WHO[code]]["pid"])]
        amount = min(int(it["standard_fen"]), g) // 2
        swipe(code, amount)
    swipe("R02-AUTISM", int(items["R02-AUTISM"]["standard_fen"]) + 1,
          want="amount_over_standard")
    # priced: a whole number of sessions at the price, within the daily cap
    for code in kinds["priced"]:
        it = items[code]
        price = int(it["standard_fen"])
        g = grants[(code, who[WHO[code]]["pid"])]
        daily = int(it["daily_cap_fen"]) or g
        sessions = max(1, min(g, daily) // price // 2)
        swipe(code, sessions * price)
        swipe(code, price + price // 2, want="amount_not_priced")
    # S11: 2 yuan a ride, 20 a day: the eleventh ride of the day is refused
    rides = (int(items["S11-TRANSPORT"]["daily_cap_fen"]) - spent["S11-TRANSPORT"]) // 200
    swipe("S11-TRANSPORT", rides * 200)
    swipe("S11-TRANSPORT", 200, want="daily_cap_exceeded")
    # cash and reimbursements are never swiped
    for code in kinds["cash"] + kinds["reimburse"]:
        swipe(code, 100, want="item_paid_to_person")

    # quote: submitted by the provider, approved once, spent there only
    quotes = {"R09-CATARACT": 280000, "R12-HEARING-AID": 450000, "S06-BARRIER-FREE": 900000}
    for code, fen in quotes.items():
        pid = who[WHO[code]]["pid"]
        swipe(code, 1000, want="provider_not_quoted")  # nothing approved yet
        r = elig(stack, "quote", "submit", pid, "--item", code, "--provider", "PALL" + run,
                 "--amount", str(int(items[code]["annual_cap_fen"]) + 1), "--reference",
                 "Q-OVER-" + code + run, "--actor", "provider", check=False)
        assert r.returncode == 1 and "over its annual cap" in r.stderr, r.stderr
        r = elig(stack, "quote", "submit", pid, "--item", code, "--provider", "PALL" + run,
                 "--amount", str(fen), "--reference", "Q-" + code + run, "--actor", "provider")
        qid = r.stdout.split()[1].rstrip(":")
        elig(stack, "quote", "approve", qid, "--actor", "district")
        r = elig(stack, "quote", "approve", qid, "--actor", "district", check=False)
        assert r.returncode == 1 and "decided once" in r.stderr, r.stderr
        wait_for(lambda: wallet(stack, who[WHO[code]]["card"], code) == fen, 60,
                 "the %s quote's credit" % code)
        swipe(code, 1000, term=other, want="provider_not_quoted")
        swipe(code, fen - 1000)
        swipe(code, 1000)  # the rest, in a second swipe
        swipe(code, 1, want="insufficient_funds")
    # a quote for a person not entitled to the item (cataract surgery: visual)
    r = elig(stack, "quote", "submit", who["child"]["pid"], "--item", "R09-CATARACT",
             "--provider", "PALL" + run, "--amount", "1000", "--reference", "Q-NOT" + run,
             "--actor", "provider", check=False)
    assert r.returncode == 1 and "not entitled to R09-CATARACT" in r.stderr, r.stderr

    # reimburse: an invoice per item, checked, paid to the person
    today = LOCAL.isoformat()
    for n, code in enumerate(kinds["reimburse"]):
        name, cap = WHO[code], int(items[code]["annual_cap_fen"])
        fen = cap // 2 + n
        r = elig(stack, "reimburse", "record", who[name]["pid"], "--item", code, "--amount",
                 str(fen), "--invoice", "INV-%s-%s" % (run, code), "--paid-on", today,
                 "--actor", "finance")
        assert "paid to person" in r.stdout, r.stdout
        paid[name] += fen
    pid = who["adult"]["pid"]
    refusals = [
        (["--item", "S09-FAMILY-DOCTOR", "--amount", "100", "--invoice",
          "INV-%s-S09-FAMILY-DOCTOR" % run, "--paid-on", today], "refunded already"),
        (["--item", "S09-FAMILY-DOCTOR", "--amount", "6001", "--invoice", "INV-X" + run,
          "--paid-on", today], "over its annual cap"),
        (["--item", "S09-FAMILY-DOCTOR", "--amount", "100", "--paid-on", today],
         "--invoice is required"),
        (["--item", "S09-FAMILY-DOCTOR", "--amount", "100", "--invoice", "发票 1",
          "--paid-on", today], "--invoice must be"),
        (["--item", "S02-LIVING", "--amount", "100", "--invoice", "INV-Y" + run,
          "--paid-on", today], "is a cash item, not a reimburse item"),
        (["--item", "R08-PSY-MEDS", "--amount", "100", "--invoice", "INV-Z" + run,
          "--paid-on", today], "not entitled to R08-PSY-MEDS"),
    ]
    before = stack.psql("SELECT count(*) FROM elig_reimbursements")
    for args, want in refusals:
        r = elig(stack, "reimburse", "record", pid, *args, "--actor", "finance", check=False)
        assert r.returncode == 1 and want in r.stderr, (args, r.stderr)
    assert stack.psql("SELECT count(*) FROM elig_reimbursements") == before

    # the ledger: every approved swipe posted, every payment to the person
    # journalled, per item; Redis and the journal agree
    def posted(code, card):
        return int(stack.psql("SELECT coalesce(sum(amount_fen), 0) FROM ledger_entries WHERE "
                              "kind = 'swipe' AND card_no = '%s' AND item_code = '%s'"
                              % (card, code)))
    for code, fen in spent.items():
        c = who[WHO[code]]["card"]
        wait_for(lambda: posted(code, c) == fen, 60, "the %s swipes in the ledger" % code)
    for name, fen in paid.items():
        wait_for(lambda: payee_money(stack, who[name]["pid"]) == fen, 60,
                 "what %s was paid into their own account" % name)
    for code in swipeable:
        c = who[WHO[code]]["card"]
        credited = grants.get((code, who[WHO[code]]["pid"]), 0) + quotes.get(code, 0)
        assert wallet(stack, c, code) == credited - spent.get(code, 0), code
    for p in who.values():
        wait_for(lambda: reconciled(stack, p["card"]), 30, "reconcile")
    # settlement: the day closed now; the provider's statement is what was
    # swiped there, each person is owed what the ledger paid them
    day = LOCAL.isoformat()
    r = tool(stack, "onecard-settlement", ["close", "--period", day, "--early", "--wait", "90",
                                           "--out", str(tmp_path)], False, 180)
    assert r.returncode == 0, r.stdout + r.stderr
    at_pall = sum(fen for code, fen in spent.items())
    assert int(stack.psql("SELECT total_fen FROM settlement_statements WHERE period = '%s' AND "
                          "provider_id = 'PALL%s'" % (day, run))) == at_pall
    for name, fen in paid.items():
        owed = stack.psql("SELECT total_fen FROM settlement_person_payouts WHERE period = '%s' "
                          "AND person_id = '%s'" % (day, who[name]["pid"]))
        assert int(owed or 0) == fen, (name, owed, fen)
    used = set(spent) | {c for c in kinds["cash"] + kinds["reimburse"]}
    assert used == set(items), set(items) - used
    print("items by kind: " + "; ".join("%s %d" % (k, len(v)) for k, v in sorted(kinds.items())))


# seed 002: children's rehabilitation paid by central, provincial and
# municipal money together (the catalogue's shares, in basis points)
SHARES = [("central", 5420), ("provincial", 2692), ("municipal", 1888)]


def split(amount, weights):
    """The split of libs/common/shares.h, written again: each share the floor
    of its part, the odd fen one at a time by largest remainder, ties to the
    share listed first, nothing to a weight of 0; a negative amount is minus
    the split of its absolute value. Returns {fund: fen} without zeros."""
    total = sum(w for _, w in weights)
    a = abs(amount)
    parts = [[f, a * w // total, a * w % total, w] for f, w in weights]
    left = a - sum(p[1] for p in parts)
    order = sorted((i for i, p in enumerate(parts) if p[3] > 0),
                   key=lambda i: (-parts[i][2], i))
    for i in order[:left]:
        parts[i][1] += 1
    sign = -1 if amount < 0 else 1
    return {p[0]: sign * p[1] for p in parts if p[1]}


def by_fund(stack, where):
    """{(entry kind, swipe id, account kind): {fund: fen}} of the lines of
    the entries selected by where."""
    out = {}
    for line in stack.psql("SELECT e.kind, coalesce(e.swipe_id, ''), a.kind, coalesce(l.fund, "
                           "''), l.amount_fen FROM ledger_entries e JOIN ledger_lines l USING "
                           "(entry_id) JOIN ledger_accounts a USING (account_id) WHERE %s"
                           % where).splitlines():
        kind, sid, akind, fund, fen = line.split("|")
        d = out.setdefault((kind, sid, akind), {})
        d[fund] = d.get(fund, 0) + int(fen)
    return out


def test_an_item_of_three_fund_shares_is_drawn_spent_and_reversed_per_share(el):
    """R03 is paid 54.20% central, 26.92% provincial, 18.88% municipal: the
    grant is split to the fen and each share drawn from its own fund; a
    swipe of an odd amount is split pro rata over the wallet's money per
    fund, a reversal returns exactly its swipe's shares; every posting names
    each share, the per-fund balances sum to the wallet to the fen, none
    below zero, and reconcile agrees."""
    from test_ledger import postings_of
    stack, run = el["stack"], el["run"]
    code = "R03-HEARING-CHILD"
    items = {it["code"]: it for it in catalogue_items()}
    assert items[code]["fund_source"] == ",".join("%s:%d" % s for s in SHARES)
    p = register(el, "shares", "hearing", 2, 0, "none", years_ago(2, 1))
    approve_items(el, p["pid"], [code])
    elig(stack, "issue", "--period", PERIOD, "--actor", "test")
    g = int(stack.psql("SELECT amount_fen FROM elig_issuances WHERE period = '%s' AND "
                       "person_id = '%s' AND item_code = '%s'" % (PERIOD, p["pid"], code)))
    assert g > 0
    card = p["card"]
    wait_for(lambda: wallet(stack, card, code) == g, 60, "the R03 credit")
    # the grant: one top-up, each share drawn from fund:<level>:<year>
    topup = split(g, SHARES)
    assert len(topup) == 3 and sum(topup.values()) == g
    mine = "e.card_no = '%s' AND e.item_code = '%s'" % (card, code)  # the card has other items
    lines = by_fund(stack, mine + " AND e.kind = 'topup'")
    assert lines[("topup", "", "fund")] == topup, lines
    assert lines[("topup", "", "wallet")] == {f: -v for f, v in topup.items()}, lines
    year = PERIOD[:4]
    names = stack.psql("SELECT string_agg(a.name, ',' ORDER BY a.name) FROM ledger_entries e "
                       "JOIN ledger_lines l USING (entry_id) JOIN ledger_accounts a USING "
                       "(account_id) WHERE %s AND a.kind = 'fund'" % mine)
    assert names == "fund:central:%s,fund:municipal:%s,fund:provincial:%s" % ((year,) * 3)

    # two swipes of odd amounts, the second reversed
    t = terminal(el, "PSH" + run, [code])
    time.sleep(2.5)  # the gateway's directory refresh
    std = int(items[code]["standard_fen"])
    a1 = (min(std, g) // 2) | 1
    a2 = (min(std, g - a1) // 4) * 2 + 1
    assert a1 + a2 <= g
    ids = []
    for a in (a1, a2):
        st, doc = t.swipe(card, a, item=code)
        assert st == 200 and doc["decision"] == "approved", doc
        ids.append(doc["swipe_id"])
    st, doc = t.reverse(ids[1])
    assert st == 200, doc
    s1 = split(a1, [(f, topup.get(f, 0)) for f, _ in SHARES])
    left = {f: topup[f] - s1.get(f, 0) for f in topup}
    s2 = split(a2, [(f, left[f]) for f, _ in SHARES])

    def journalled():
        return stack.psql("SELECT count(*) FROM ledger_entries e WHERE %s AND kind IN "
                          "('swipe', 'reversal')" % mine) == "3"
    wait_for(journalled, 60, "two swipes and a reversal in the ledger")
    lines = by_fund(stack, mine + " AND e.kind IN ('swipe', 'reversal')")
    assert lines[("swipe", ids[0], "wallet")] == s1, (lines, s1)
    assert lines[("swipe", ids[0], "payable")] == {f: -v for f, v in s1.items()}, lines
    assert lines[("swipe", ids[1], "wallet")] == s2, (lines, s2)
    assert lines[("reversal", ids[1], "wallet")] == {f: -v for f, v in s2.items()}, lines
    assert lines[("reversal", ids[1], "payable")] == s2, lines
    # the wallet per fund: the grant's shares less the first swipe's, to
    # the fen, none below zero, summing to the wallet in Redis
    money = {}
    for line in stack.psql("SELECT l.fund, -sum(l.amount_fen) FROM ledger_lines l JOIN "
                           "ledger_accounts a USING (account_id) WHERE a.name = 'wallet:%s:%s' "
                           "GROUP BY 1" % (card, code)).splitlines():
        f, v = line.split("|")
        money[f] = int(v)
    assert money == left and min(money.values()) >= 0, (money, left)
    wait_for(lambda: wallet(stack, card, code) == g - a1, 30, "the hot balance")
    assert sum(money.values()) == wallet(stack, card, code) == g - a1
    # every posting names each share: a pair of lines per fund
    def postings():
        return [x for x in postings_of(stack, card) if 'item_code: "%s"' % code in x]
    wait_for(lambda: len(postings()) == 4, 60, "the four postings")
    for posting in postings():
        kind = posting.split('kind: "')[1].split('"')[0]
        shares = {"topup": topup, "reversal": s2}.get(kind)
        if kind == "swipe":  # the first or the second: by its lines' amounts
            first = all("amount_fen: %d\n" % v in posting for v in s1.values())
            shares = s1 if first else s2
        for f in shares:
            assert posting.count('fund: "%s"' % f) == 2, (f, posting)
        assert posting.count("lines {") == 2 * len(shares) + (2 if kind == "topup" else 0), \
            posting
    wait_for(lambda: reconciled(stack, card), 30, "reconcile")
    out = ledger(stack, "reconcile", "--card-prefix", card, check=False).stdout
    assert [x for x in out.splitlines() if x.startswith("fund shares")][0].split()[2] == "ok", out
