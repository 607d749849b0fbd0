"""The card gateway against the real stack: every row of the contract's
error table, every decline reason, idempotency, concurrency on one card,
reversals, ratings and balance inquiries (TERMINAL-API.md).
"""
import concurrent.futures
import json
import os
import subprocess
import time
import uuid

import pytest

from conftest import BUILD, REPO, kcat
from gateway_client import Terminal, dirload, new_card

os.environ.setdefault("ONECARD_BUILD", BUILD)

ITEMS = [
    # code wallet standard daily annual category
    "item T-REHAB rehab 50000 0 0 rehabilitation",
    "item T-CAPPED rehab 10000 15000 0 rehabilitation",
    "item T-ANNUAL rehab 10000 0 25000 rehabilitation",
    "item T-TRAIN training 20000 0 0 employment",
    "item T-OTHER rehab 10000 0 0 rehabilitation",
]


@pytest.fixture(scope="module")
def gw(stack):
    run = uuid.uuid4().hex[:6]
    d = {"run": run, "port": stack.gateway_port, "stack": stack}
    d["pa"], d["pb"], d["ps"] = "PA" + run, "PB" + run, "PS" + run
    d["ta"], d["tb"], d["ts"], d["td"] = ("TA" + run, "TB" + run, "TS" + run, "TD" + run)
    dirload(stack, ITEMS + [
        "provider %s active rehabilitation T-REHAB,T-CAPPED,T-ANNUAL,T-TRAIN" % d["pa"],
        "provider %s active rehabilitation T-OTHER" % d["pb"],
        "provider %s suspended rehabilitation T-REHAB" % d["ps"],
        "terminal %s %s secret-a active" % (d["ta"], d["pa"]),
        "terminal %s %s secret-b active" % (d["tb"], d["pb"]),
        "terminal %s %s secret-s active" % (d["ts"], d["ps"]),
        "terminal %s %s secret-d disabled" % (d["td"], d["pa"]),
    ])
    time.sleep(2.5)  # the gateway's directory refresh (1 s)
    return d


def make_card(gw, balance=100000, status="active", items=("T-REHAB", "T-CAPPED", "T-ANNUAL",
                                                          "T-OTHER"), wallets=("rehab",)):
    card = new_card()
    lines = ["card %s person-%s %s 123456" % (card, card[-6:], status)]
    lines += ["entitlement %s %s 0 0 central-2026" % (card, i) for i in items]
    lines += ["wallet %s %s %d" % (card, w, balance) for w in wallets]
    dirload(gw["stack"], lines)
    return card


def term(gw, which="ta"):
    return Terminal(gw["port"], gw[which], "secret-" + which[1])


def test_approved_swipe_and_balance(gw):
    card = make_card(gw)
    t = term(gw)
    st, doc = t.swipe(card, 12000)
    assert st == 200 and doc["decision"] == "approved", doc
    assert doc["wallet"] == "rehab" and doc["balance_fen"] == 88000
    assert len(doc["approval_code"]) == 6 and doc["swipe_id"]
    st, doc = t.balance(card)
    assert st == 200 and doc["wallets"] == [
        {"wallet": "rehab", "balance_fen": 88000, "lapses": []}], doc


DECLINES = [
    # (reason, how)
    ("card_unknown", lambda gw: (new_card(), "T-REHAB", 100, "123456", "ta")),
    ("card_frozen", lambda gw: (make_card(gw, status="frozen"), "T-REHAB", 100, "123456", "ta")),
    ("card_lost", lambda gw: (make_card(gw, status="lost"), "T-REHAB", 100, "123456", "ta")),
    ("pin_invalid", lambda gw: (make_card(gw), "T-REHAB", 100, "654321", "ta")),
    ("item_unknown", lambda gw: (make_card(gw), "T-NOPE", 100, "123456", "ta")),
    ("provider_suspended", lambda gw: (make_card(gw), "T-REHAB", 100, "123456", "ts")),
    ("provider_not_designated", lambda gw: (make_card(gw), "T-REHAB", 100, "123456", "tb")),
    ("person_ineligible", lambda gw: (make_card(gw, items=("T-CAPPED",)), "T-REHAB", 100,
                                      "123456", "ta")),
    ("item_not_allowed", lambda gw: (make_card(gw, items=("T-TRAIN",)), "T-TRAIN", 100,
                                     "123456", "ta")),
    ("amount_over_standard", lambda gw: (make_card(gw), "T-REHAB", 50001, "123456", "ta")),
    ("insufficient_funds", lambda gw: (make_card(gw, balance=99), "T-REHAB", 100, "123456",
                                       "ta")),
    ("daily_cap_exceeded", lambda gw: (make_card(gw), "T-CAPPED", 15001 - 10000, "123456",
                                       "ta")),
    ("annual_cap_exceeded", lambda gw: (make_card(gw), "T-ANNUAL", 10000, "123456", "ta")),
]


@pytest.mark.parametrize("reason,how", DECLINES, ids=[d[0] for d in DECLINES])
def test_decline_reasons(gw, reason, how):
    card, item, amount, pin, which = how(gw)
    t = term(gw, which)
    if reason == "daily_cap_exceeded":  # 10,000 today, then 5,001 over a 15,000 day
        assert t.swipe(card, 10000, item=item)[1]["decision"] == "approved"
    if reason == "annual_cap_exceeded":  # 20,000 this year, then 10,000 over 25,000
        for _ in range(2):
            assert t.swipe(card, 10000, item=item)[1]["decision"] == "approved"
    before = t.balance(card)[1] if reason not in ("card_unknown", "card_frozen",
                                                  "card_lost") else None
    st, doc = t.swipe(card, amount, item=item, pin=pin)
    assert st == 200 and doc == {"swipe_id": None, "decision": "declined", "reason": reason,
                                 "display_zh": doc.get("display_zh")}, doc
    assert doc["display_zh"], "every decline has a text for the terminal's screen"
    if before is not None and reason != "pin_invalid":
        assert t.balance(card)[1] == before, "a decline must not change the balance"


def test_pin_lock_after_five_wrong(gw):
    card = make_card(gw)
    t = term(gw)
    reasons = [t.swipe(card, 100, pin="000000")[1]["reason"] for _ in range(5)]
    assert reasons == ["pin_invalid"] * 4 + ["pin_locked"]
    assert t.swipe(card, 100)[1]["reason"] == "pin_locked"  # even the right PIN


def test_pin_counter_resets_on_success(gw):
    card = make_card(gw)
    t = term(gw)
    for _ in range(4):
        t.swipe(card, 100, pin="000000")
    assert t.swipe(card, 100)[1]["decision"] == "approved"
    for _ in range(4):
        assert t.swipe(card, 100, pin="000000")[1]["reason"] == "pin_invalid"


def test_retry_with_same_request_id_charges_once(gw):
    card = make_card(gw, balance=50000)
    t = term(gw)
    rid = uuid.uuid4().hex
    answers = [t.swipe(card, 1000, request_id=rid) for _ in range(20)]
    assert all(a == answers[0] for a in answers), answers
    assert answers[0][1]["decision"] == "approved"
    assert t.balance(card)[1]["wallets"][0]["balance_fen"] == 49000


def test_same_request_id_other_body_is_409(gw):
    card = make_card(gw)
    t = term(gw)
    rid = uuid.uuid4().hex
    assert t.swipe(card, 1000, request_id=rid)[0] == 200
    st, doc = t.swipe(card, 2000, request_id=rid)
    assert st == 409 and doc["error"]["code"] == "conflict"
    assert doc["error"]["reason"] == "request_id_reused" and "request_id" in doc["error"]["message"]


def test_concurrent_swipes_exactly_37_approved(gw):
    card = make_card(gw, balance=37 * 1000)
    terminals = ["ta"] * 200

    def one(i):
        return term(gw).swipe(card, 1000)

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(one, range(200)))
    statuses = [s for s, _ in results]
    approved = [d for s, d in results if s == 200 and d["decision"] == "approved"]
    declined = [d for s, d in results if s == 200 and d["decision"] == "declined"]
    assert statuses.count(200) + statuses.count(429) == 200, statuses
    ok = statuses.count(200)
    assert len(approved) == 37 and len(declined) == ok - 37, (len(approved), len(declined))
    assert all(d["reason"] == "insufficient_funds" for d in declined)
    assert term(gw).balance(card)[1]["wallets"][0]["balance_fen"] == 0
    assert sorted(d["balance_fen"] for d in approved) == [i * 1000 for i in range(37)]


def test_reversal(gw):
    card = make_card(gw, balance=10000)
    t = term(gw)
    st, doc = t.swipe(card, 4000)
    sid = doc["swipe_id"]
    path = "/v1/swipes/%s/reversal" % sid
    other = term(gw, "tb")
    st, doc = other.post(path, {"request_id": "r1"})
    assert st == 409 and doc["error"]["reason"] == "swipe_of_another_terminal"
    assert doc["error"]["message"].startswith("swipe_id: ") and doc["error"]["display_zh"]
    rid = uuid.uuid4().hex
    st, doc = t.post(path, {"request_id": rid})
    assert st == 200 and doc == {"swipe_id": sid, "decision": "reversed", "balance_fen": 10000}
    assert t.post(path, {"request_id": rid}) == (st, doc)  # idempotent
    st, doc = t.post(path, {"request_id": uuid.uuid4().hex})
    assert st == 409 and doc["error"]["reason"] == "already_reversed"
    st, doc = t.post("/v1/swipes/0000abcd-00000000000000000000/reversal",
                     {"request_id": uuid.uuid4().hex})
    assert st == 409 and doc["error"]["reason"] == "swipe_unknown"
    assert t.balance(card)[1]["wallets"][0]["balance_fen"] == 10000


def test_ratings(gw):
    card = make_card(gw)
    t = term(gw)
    sid = t.swipe(card, 1000)[1]["swipe_id"]
    st, doc = t.post("/v1/ratings", {"request_id": uuid.uuid4().hex, "swipe_id": sid,
                                     "score": 5, "tags": ["kind", "on-time"]})
    assert st == 202, doc
    st, doc = t.post("/v1/ratings", {"request_id": uuid.uuid4().hex, "swipe_id": sid,
                                     "score": 4})
    assert st == 409 and doc["error"]["reason"] == "already_rated"
    st, doc = term(gw, "tb").post("/v1/ratings", {"request_id": uuid.uuid4().hex,
                                                  "swipe_id": sid, "score": 1})
    assert st == 409
    sid2 = t.swipe(card, 1000)[1]["swipe_id"]
    assert t.post("/v1/swipes/%s/reversal" % sid2, {"request_id": uuid.uuid4().hex})[0] == 200
    st, doc = t.post("/v1/ratings", {"request_id": uuid.uuid4().hex, "swipe_id": sid2,
                                     "score": 3})
    assert st == 409 and doc["error"]["reason"] == "swipe_reversed"
    st, doc = t.post("/v1/ratings", {"request_id": uuid.uuid4().hex, "swipe_id": sid,
                                     "score": 6})
    assert st == 400 and "score" in doc["error"]["message"]


BAD_BODIES = [
    (b"not json", "not a JSON object"),
    (b'{"request_id":"r","card_no":"6222000000000000001"}', "is missing"),
    (b'{"request_id":"r","card_no":"4111111111111111","pin":"123456","item_code":"T-REHAB",'
     b'"amount_fen":"100"}', "amount_fen"),
    (b'{"request_id":"r","card_no":"4111111111111111","pin":"123456","item_code":"T-REHAB",'
     b'"amount_fen":100,"extra":1}', 'unknown field "extra"'),
    (b'{"request_id":"r","request_id":"s","card_no":"4111111111111111","pin":"123456",'
     b'"item_code":"T-REHAB","amount_fen":100}', "appears twice"),
    (b'{"request_id":"r","card_no":"4111111111111111","pin":"123456","item_code":"T-REHAB",'
     b'"amount_fen":0}', "amount_fen"),
    (b'{"request_id":"r","card_no":"4111111111111112","pin":"123456","item_code":"T-REHAB",'
     b'"amount_fen":100}', "Luhn"),
    (b'{"request_id":"r","card_no":"4111111111111111","pin":"12345a","item_code":"T-REHAB",'
     b'"amount_fen":100}', "pin"),
    (b'{"request_id":"r","card_no":"4111111111111111","pin":"123456","item_code":"T-REHAB",'
     b'"amount_fen":1.5}', "integer"),
]


@pytest.mark.parametrize("body,why", BAD_BODIES)
def test_400_invalid_request(gw, body, why):
    st, doc = term(gw).post("/v1/swipes", body=body)
    assert st == 400 and doc["error"]["code"] == "invalid_request"
    assert why in doc["error"]["message"], doc


def test_401_rows(gw):
    t = term(gw)
    card = make_card(gw)
    body = {"request_id": "x", "card_no": card, "pin": "123456", "item_code": "T-REHAB",
            "amount_fen": 1}
    cases = [
        dict(drop=("X-Signature",)),
        dict(drop=("X-Nonce",)),
        dict(drop=("X-Timestamp",)),
        dict(drop=("X-Terminal-Id",)),
        dict(secret="wrong"),
        dict(ts=str(int(time.time()) - 301)),
        dict(ts=str(int(time.time()) + 301)),
        dict(nonce="short"),
    ]
    for c in cases:
        st, doc = t.post("/v1/swipes", body, **c)
        assert st == 401 and doc["error"]["code"] == "unauthenticated", (c, doc)
    st, doc = Terminal(gw["port"], "T-NOBODY", "x").post("/v1/swipes", body)
    assert st == 401 and "unknown terminal" in doc["error"]["message"]
    st, doc = term(gw, "td").post("/v1/swipes", body)
    assert st == 401 and "disabled" in doc["error"]["message"]
    nonce = uuid.uuid4().hex
    assert t.post("/v1/swipes", dict(body, request_id="n1"), nonce=nonce)[0] == 200
    st, doc = t.post("/v1/swipes", dict(body, request_id="n1"), nonce=nonce)
    assert st == 401 and "replay" in doc["error"]["message"]
    assert t.balance(card)[1]["wallets"][0]["balance_fen"] == 100000 - 1


def test_authentication_first_then_404_405_415_and_413(gw):
    """An unsigned request learns nothing about paths, methods or media
    types (401); signed, it hears 404, 405 (with Allow) and 415. A body over
    8 KiB is refused before it is read whole (413), signed or not."""
    t = term(gw)
    json_ct = {"Content-Type": "application/json"}
    for method, path, headers in (("POST", "/v1/nothing", json_ct), ("GET", "/v1/swipes", {}),
                                  ("POST", "/v1/swipes", {"Content-Type": "text/plain"})):
        st, doc, resp = t.raw(method, path, b"{}" if method == "POST" else b"", headers)
        assert st == 401 and doc["error"]["code"] == "unauthenticated", (method, path, doc)
        assert len(resp.getheader("X-Request-Id") or "") == 16
    st, doc, _ = t.signed("POST", "/v1/nothing", b"{}", json_ct)
    assert st == 404 and doc["error"]["code"] == "not_found"
    st, doc, resp = t.signed("GET", "/v1/swipes")
    assert st == 405 and doc["error"]["code"] == "method_not_allowed"
    assert resp.getheader("Allow") == "POST"
    st, doc = t.post("/v1/swipes", body=b'{"a":1}', headers={"Content-Type": "text/plain"})
    assert st == 415 and doc["error"]["code"] == "unsupported_media_type"
    t2 = term(gw)
    st, doc = t2.post("/v1/swipes", body=b"x" * 9000)
    assert st == 413 and doc["error"]["code"] == "too_large"


def test_429_rate_limited(gw):
    run = uuid.uuid4().hex[:6]
    dirload(gw["stack"], ["terminal TR%s %s secret-r active" % (run, gw["pa"])])
    t = Terminal(gw["port"], "TR" + run, "secret-r")
    card = make_card(gw)
    statuses = [t.balance(card)[0] for _ in range(700)]
    assert 429 in statuses and statuses.count(200) >= 300, statuses


def test_approvals_are_events_on_the_topic(gw):
    card = make_card(gw)
    t = term(gw)
    sids = [t.swipe(card, 100)[1]["swipe_id"] for _ in range(5)]
    stack = gw["stack"]
    out = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", "onecard.swipes.v1", "-e",
                          "-q", "-K", "\t", "-f", "%k\t%h\n"], capture_output=True, text=True,
                         timeout=60).stdout
    keyed = [l for l in out.splitlines() if l.startswith(card + "\t")]
    assert len(keyed) == 5 and all("ce_type=onecard.v1.SwipeAuthorized" in l for l in keyed)
