#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, from the terminal API's own
examples (TERMINAL-API.md), into tests/fuzz/corpus/<target>/.

    tests/fuzz/make-corpus.py

The seeds are checked in; run this again only when the contract's shapes
change. Requests for fuzz_auth are signed with the target's fixed secret at
its fixed clock (FUZZ_SECRET, FUZZ_NOW in fuzz_auth.c), so they pass
authentication and the fuzzer mutates from there. Stdlib only.
"""
import hashlib
import hmac
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "fuzz-terminal-secret"
NOW = "1767225600"

BODIES = {
    "swipe": ("/v1/swipes", {"request_id": "T0001-000123", "card_no": "6222000000000001234",
                             "pin": "123456", "item_code": "RH-LIMB-01", "amount_fen": 12000}),
    "reversal": ("/v1/swipes/0a1b2c3d-00000000000000000001/reversal",
                 {"request_id": "T0001-000124"}),
    "rating": ("/v1/ratings", {"request_id": "T0001-000125",
                               "swipe_id": "0a1b2c3d-00000000000000000001", "score": 5,
                               "tags": ["kind", "on-time"]}),
    "balance": ("/v1/balance-inquiries", {"request_id": "T0001-000126",
                                          "card_no": "6222000000000001234", "pin": "123456"}),
}

# JSON that is valid but refused, to seed the error paths too.
EXTRA_JSON = {
    "escapes": b'{"request_id":"T\\u00e9\\u4e2d\\n\\"x\\"","card_no":"6222000000000001234",'
               b'"pin":"123456","item_code":"RH\\/LIMB","amount_fen":1}',
    "number-edge": b'{"request_id":"r","card_no":"6222000000000001234","pin":"123456",'
                   b'"item_code":"x","amount_fen":-9223372036854775808}',
    "float": b' {"request_id" : "r", "score" : 1.5e3, "swipe_id": "s"} ',
    "empty": b"{}",
}


def sign(method, path, ts, nonce, body):
    msg = "\n".join([method, path, ts, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(SECRET.encode(), msg.encode(), hashlib.sha256).hexdigest()


def request(path, body, n, extra=b"", version=b"HTTP/1.1"):
    nonce = "fuzznonce%07d" % n
    head = [b"POST " + path.encode() + b" " + version,
            b"Host: 127.0.0.1:8080",
            b"Content-Type: application/json",
            b"Content-Length: %d" % len(body),
            b"X-Terminal-Id: T0001",
            b"X-Timestamp: " + NOW.encode(),
            b"X-Nonce: " + nonce.encode(),
            b"X-Signature: " + sign("POST", path, NOW, nonce, body).encode()]
    return b"\r\n".join(head) + b"\r\n" + extra + b"\r\n" + body


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for i, (name, (path, obj)) in enumerate(sorted(BODIES.items())):
        body = json.dumps(obj, separators=(",", ":")).encode()
        write("json", name + ".json", body)
        write("http", name + ".http", request(path, body, i))
        write("auth", name + ".http", request(path, body, i))
    for name, body in EXTRA_JSON.items():
        write("json", name + ".json", body)
    swipe_path, swipe = BODIES["swipe"]
    body = json.dumps(swipe).encode()
    write("http", "close-http10.http",
          request(swipe_path, body, 10, b"Connection: close\r\n", b"HTTP/1.0"))
    write("http", "get.http", b"GET /v1/swipes HTTP/1.1\r\nHost: x\r\n\r\n")
    write("http", "tabs-and-case.http",
          b"POST /v1/ratings HTTP/1.1\r\ncOnTeNt-LeNgTh:\t2 \r\nConnection: keep-alive\r\n\r\n{}")
    write("auth", "keep-alive.http",
          request(swipe_path, body, 11, b"Connection: keep-alive\r\n"))


if __name__ == "__main__":
    main()
