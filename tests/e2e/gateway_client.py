"""A terminal for the tests: signs requests exactly as TERMINAL-API.md says,
over one keep-alive connection; and a loader for the directory fixtures,
through the project's own writer (onecard-dirload), never by hand.
"""
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import time
import uuid


def luhn_complete(prefix):
    """Appends the Luhn check digit to prefix."""
    digits = [int(c) for c in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return prefix + str((10 - total % 10) % 10)


def new_card():
    """A random card number, never in the bench cards' range (622288…: the
    bench's reconcile looks at that prefix on a shared stack)."""
    return luhn_complete("62220" + "".join(random.choice("0123456789") for _ in range(13)))


def sign(secret, method, path, ts, nonce, body):
    msg = "\n".join([method, path, ts, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def signed_request(terminal_id, secret, path, obj):
    """The bytes of one signed POST, for tests that drive a raw socket."""
    body = json.dumps(obj).encode()
    ts, nonce = str(int(time.time())), uuid.uuid4().hex
    head = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", "Content-Type: application/json",
            "Content-Length: %d" % len(body), "X-Terminal-Id: " + terminal_id,
            "X-Timestamp: " + ts, "X-Nonce: " + nonce,
            "X-Signature: " + sign(secret, "POST", path, ts, nonce, body)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Terminal:
    def __init__(self, port, terminal_id, secret):
        self.port, self.id, self.secret = port, terminal_id, secret
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def raw(self, method, path, body=b"", headers=None):
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            r = self.conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            raise
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.last = r  # the last answer, for its headers
        return r.status, (json.loads(data) if data else None), r

    def signed(self, method, path, body=b"", headers=None):
        """Any method, signed: (status, doc, response)."""
        ts, nonce = str(int(time.time())), uuid.uuid4().hex
        h = {"X-Terminal-Id": self.id, "X-Timestamp": ts, "X-Nonce": nonce,
             "X-Signature": sign(self.secret, method, path, ts, nonce, body)}
        h.update(headers or {})
        return self.raw(method, path, body, h)

    def post(self, path, obj=None, body=None, ts=None, nonce=None, secret=None, headers=None,
             drop=()):
        if body is None:
            body = json.dumps(obj).encode()
        ts = str(int(time.time())) if ts is None else ts
        nonce = nonce or uuid.uuid4().hex
        h = {"Content-Type": "application/json", "X-Terminal-Id": self.id, "X-Timestamp": ts,
             "X-Nonce": nonce,
             "X-Signature": sign(secret or self.secret, "POST", path, ts, nonce, body)}
        h.update(headers or {})
        for k in drop:
            h.pop(k, None)
        status, doc, _ = self.raw("POST", path, body, h)
        return status, doc

    def swipe(self, card, amount, item="T-REHAB", pin="123456", request_id=None):
        return self.post("/v1/swipes", {"request_id": request_id or uuid.uuid4().hex,
                                        "card_no": card, "pin": pin, "item_code": item,
                                        "amount_fen": amount})

    def reverse(self, swipe_id, request_id=None):
        return self.post("/v1/swipes/%s/reversal" % swipe_id,
                         {"request_id": request_id or uuid.uuid4().hex})

    def rate(self, swipe_id, score, request_id=None, tags=("on_time",)):
        return self.post("/v1/ratings", {"request_id": request_id or uuid.uuid4().hex,
                                         "swipe_id": swipe_id, "score": score,
                                         "tags": list(tags)})

    def balance(self, card, pin="123456"):
        return self.post("/v1/balance-inquiries", {"request_id": uuid.uuid4().hex,
                                                   "card_no": card, "pin": pin})


def dirload(stack, lines):
    env = dict(stack.env)
    env["ONECARD_REDIS_PORT"] = str(stack.redis_port)
    r = subprocess.run([os.path.join(os.environ.get("ONECARD_BUILD", ""), "bin",
                                     "onecard-dirload")
                        if os.environ.get("ONECARD_BUILD") else "onecard-dirload"],
                       input="\n".join(lines) + "\n", text=True, capture_output=True, env=env)
    assert r.returncode == 0, r.stderr
