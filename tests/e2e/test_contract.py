"""The terminal contract, machine-readable: the gateway's real answers
checked against docs/terminal-api.yaml (OpenAPI 3.1: every status a path
answers is listed, every body validates against its schema with
jsonschema's Draft 2020-12 validator, every answer has X-Request-Id, a 405
says Allow), and the reference client checked against the signing vectors
of docs/terminal-api-vectors.json (the gateway's side is
tests/unit/test_auth.c).

Covered here: 200 approved and declined swipes, a reversal, a rating and
its retry (202, the same rating_id), balances approved and declined, 400,
401 (on every path and method: authentication comes first), 404, 405,
409 (request_id_reused, already_reversed, already_rated), 413, 414, 415
and 501. 429 and 503 are in test_gateway.py and the fault matrix; their
bodies are the same Error schema.
"""
import json
import os
import re
import socket
import time
import uuid

import jsonschema
import pytest
import yaml

from gateway_client import Terminal, dirload, new_card, sign

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
with open(os.path.join(REPO, "docs", "terminal-api.yaml"), encoding="utf-8") as f:
    API = yaml.safe_load(f)
with open(os.path.join(REPO, "docs", "terminal-api-vectors.json"), encoding="utf-8") as f:
    VECTORS = json.load(f)["vectors"]


def resolve(node):
    """The node with every local $ref replaced by what it names (3.1 lets a
    $ref have siblings, which are kept)."""
    if isinstance(node, list):
        return [resolve(x) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = API
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        merged = dict(resolve(target))
        merged.update({k: resolve(v) for k, v in node.items() if k != "$ref"})
        return merged
    return {k: resolve(v) for k, v in node.items()}


def template(path):
    if re.fullmatch(r"/v1/swipes/[^/]+/reversal", path):
        return "/v1/swipes/{swipe_id}/reversal"
    return path


def check(method, path, status, doc, resp):
    """The answer is one the document lists, with its body and headers."""
    rid = resp.getheader("X-Request-Id") or ""
    assert re.fullmatch(r"[0-9a-f]{16}", rid), (method, path, status, rid)
    op = API["paths"].get(template(path), {}).get(method.lower())
    if op is None:  # an unknown path or method: the error object, nothing else
        assert status in (401, 404, 405, 414) and doc["error"]["code"], (path, status, doc)
        spec = resolve(API["components"]["responses"][
            {401: "Unauthenticated", 404: "NotFound", 405: "MethodNotAllowed",
             414: "UriTooLong"}[status]])
    else:
        assert str(status) in op["responses"], "%s %s answered %d, not in the document" % (
            method, path, status)
        spec = resolve(op["responses"][str(status)])
    schema = spec["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator(schema).validate(doc)
    for name, h in spec.get("headers", {}).items():
        value = resp.getheader(name)
        assert value is not None, "%s %s %d: header %s missing" % (method, path, status, name)
        jsonschema.Draft202012Validator(h["schema"]).validate(value)
    return doc


@pytest.fixture(scope="module")
def ct(stack):
    run = uuid.uuid4().hex[:6]
    prov, tid = "PC" + run, "TC" + run
    dirload(stack, ["item C-REHAB rehab 50000 0 0 rehabilitation",
                    "provider %s active rehabilitation C-REHAB" % prov,
                    "terminal %s %s secret-c active" % (tid, prov)])
    time.sleep(2.5)  # the gateway's directory refresh
    return {"stack": stack, "t": Terminal(stack.gateway_port, tid, "secret-c")}


def card(ct, balance=20000):
    c = new_card()
    dirload(ct["stack"], ["card %s person-%s active 123456" % (c, c[-6:]),
                          "entitlement %s C-REHAB 0 0 central-2026" % c,
                          "wallet %s rehab %d" % (c, balance)])
    return c


def post(t, path, obj=None, body=None, headers=None):
    status, doc = t.post(path, obj, body=body, headers=headers)
    return status, doc, t.last


def test_reference_client_signs_the_vectors():
    assert len(VECTORS) >= 5
    for v in VECTORS:
        assert sign(v["secret"], v["method"], v["path"], v["timestamp"], v["nonce"],
                    v["body"].encode()) == v["signature"], v["name"]


def test_real_answers_are_the_documents(ct):
    t = ct["t"]
    c = card(ct)
    rid = uuid.uuid4().hex
    # swipes: approved, declined, the same request again, another body
    s = {"request_id": rid, "card_no": c, "pin": "123456", "item_code": "C-REHAB",
         "amount_fen": 5000}
    st, doc, r = post(t, "/v1/swipes", s)
    assert st == 200 and check("POST", "/v1/swipes", st, doc, r)["decision"] == "approved"
    sid = doc["swipe_id"]
    st, again, r = post(t, "/v1/swipes", s)
    assert st == 200 and again == doc
    st, doc, r = post(t, "/v1/swipes", dict(s, amount_fen=5001))
    assert st == 409 and check("POST", "/v1/swipes", st, doc, r)["error"]["reason"] == \
        "request_id_reused"
    st, doc, r = post(t, "/v1/swipes", dict(s, request_id=uuid.uuid4().hex, amount_fen=50000))
    assert check("POST", "/v1/swipes", st, doc, r)["reason"] == "insufficient_funds"
    st, doc, r = post(t, "/v1/swipes", dict(s, request_id=uuid.uuid4().hex, pin="000000"))
    assert check("POST", "/v1/swipes", st, doc, r)["reason"] == "pin_invalid"
    st, doc, r = post(t, "/v1/swipes", {"request_id": "x"})
    assert st == 400 and "card_no" in check("POST", "/v1/swipes", st, doc, r)["error"]["message"]
    # a string that is not UTF-8 is not JSON
    st, doc, r = post(t, "/v1/swipes", body=json.dumps(dict(s, item_code="ITEM")).encode()
                      .replace(b"ITEM", b"\xff\xfe"))
    assert st == 400 and "not valid UTF-8" in check("POST", "/v1/swipes", st, doc, r)["error"][
        "message"]
    # a rating, its retry, a second rating
    rate = {"request_id": uuid.uuid4().hex, "swipe_id": sid, "score": 5, "tags": ["准时"]}
    st, doc, r = post(t, "/v1/ratings", rate)
    assert st == 202 and check("POST", "/v1/ratings", st, doc, r)["rating_id"]
    st, again, r = post(t, "/v1/ratings", rate)
    assert st == 202 and check("POST", "/v1/ratings", st, again, r) == doc
    st, doc, r = post(t, "/v1/ratings", dict(rate, request_id=uuid.uuid4().hex))
    assert st == 409 and check("POST", "/v1/ratings", st, doc, r)["error"]["reason"] == \
        "already_rated"
    # a reversal, and another
    path = "/v1/swipes/%s/reversal" % sid
    st, doc, r = post(t, path, {"request_id": uuid.uuid4().hex})
    assert st == 200 and check("POST", path, st, doc, r)["balance_fen"] == 20000
    st, doc, r = post(t, path, {"request_id": uuid.uuid4().hex})
    assert st == 409 and check("POST", path, st, doc, r)["error"]["reason"] == "already_reversed"
    # balances
    b = {"request_id": uuid.uuid4().hex, "card_no": c, "pin": "123456"}
    st, doc, r = post(t, "/v1/balance-inquiries", b)
    assert check("POST", "/v1/balance-inquiries", st, doc, r)["wallets"] == [
        {"wallet": "rehab", "balance_fen": 20000, "lapses": []}]
    st, doc, r = post(t, "/v1/balance-inquiries", dict(b, card_no=new_card()))
    assert check("POST", "/v1/balance-inquiries", st, doc, r)["reason"] == "card_unknown"


def test_errors_are_the_documents_and_authentication_comes_first(ct):
    t = ct["t"]
    for path in ("/v1/swipes", "/v1/ratings", "/v1/balance-inquiries", "/v1/nothing",
                 "/v1/swipes/%s/reversal" % ("0" * 8 + "-" + "0" * 20)):
        for method in ("POST", "GET", "DELETE"):
            st, doc, r = t.raw(method, path, b"{}", {"Content-Type": "text/plain"})
            assert st == 401, (method, path, st, doc)
            check(method, path, st, doc, r)
    st, doc, r = t.signed("POST", "/v1/nothing", b"{}", {"Content-Type": "application/json"})
    assert st == 404 and check("POST", "/v1/nothing", st, doc, r)
    st, doc, r = t.signed("GET", "/v1/balance-inquiries")
    assert st == 405 and check("GET", "/v1/balance-inquiries", st, doc, r)
    st, doc, r = t.signed("POST", "/v1/swipes", b"{}", {"Content-Type": "text/plain"})
    assert st == 415 and check("POST", "/v1/swipes", st, doc, r)
    st, doc, r = post(t, "/v1/swipes", body=b"x" * 9000)
    assert st == 413 and check("POST", "/v1/swipes", st, doc, r)
    long_path = "/v1/swipes/" + "a" * 300 + "/reversal"
    st, doc, r = t.raw("POST", long_path, b"{}", {"Content-Type": "application/json"})
    assert st == 414 and check("POST", long_path, st, doc, r)
    # a chunked body: a raw socket (http.client would send Content-Length)
    with socket.create_connection(("127.0.0.1", ct["stack"].gateway_port), timeout=5) as s:
        s.sendall(b"POST /v1/swipes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        raw = b""
        while b"\r\n\r\n" not in raw or not raw.endswith(b"}}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 501 "), head
    assert re.search(rb"\r\nX-Request-Id: [0-9a-f]{16}\r\n", head + b"\r\n"), head
    jsonschema.Draft202012Validator(resolve(API["components"]["schemas"]["Error"])).validate(
        json.loads(body))
