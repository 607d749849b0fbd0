#!/usr/bin/env python3
"""traffic: a simulated day at the district's terminals, through the real
terminal API (every request signed as TERMINAL-API.md says).

    tools/demo/traffic.py --fleet FLEET.json [--port 8080] [--duration 60]
        [--rate 100] [--threads 8] [--seed 1] [--hoppers 1] [--json OUT.json]

FLEET.json is what deploy/local/demo exports from the registry:
{"terminals": [{"id", "secret", "provider", "items": [...]}],
 "cards": [{"card_no", "pin", "items": {"CODE": {"wallet", "kind" (credit or
 priced: the swipeable items issued), "standard_fen" (the catalogue's: the most
 a swipe takes for credit, the price of a session for priced),
 "daily_cap_fen", "issued_fen" (this month's grant)}}}]}.

What a cardholder does, in proportions close to a working day:
  - first, every item a terminal takes, once, by a card that has it at its
    own provider (the whole swipeable service list is used);
  - a swipe for an item the card is entitled to (mostly the same one), at
    the cardholder's own provider, for part of the month's grant (a priced
    item: a few whole sessions at its price);
    cardholders take turns, so a card comes back only after the others. A
    person keeps to one provider during the demo's minutes (the one
    designated for most of the card's items), as people do: a card at two
    providers within 300 s is what settlement holds as a provider hop;
  - the planted anomalies (--hoppers, default 1): cards swiped at their
    own provider and, right after, at another one, so the provider-hop
    holds the report shows are theirs;
  - now and then a wrong PIN (pin_invalid), an item the provider is not
    designated for (provider_not_designated), more than the standard
    amount (amount_over_standard) or a session and a half of a priced item
    (amount_not_priced): the declines an operator sees;
  - right after most approvals, a rating (1..5 with tags); each provider has
    a quality of its own, so the scores differ and the year-end review has
    something to find;
  - a few reversals, by the terminal that made the swipe.
A 503 is retried with the same request_id, as the contract says.

--rate is swipes per second in all (paced); 0 sends as fast as the threads
can. A progress bar goes to stderr; the summary (counts by outcome and
decline reason, the rate reached) to stdout as JSON.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import random
import sys
import threading
import time
import uuid

TAGS_GOOD = ["punctual", "professional", "kind", "clean"]
TAGS_BAD = ["late", "rushed", "rude", "overcharged"]


def sign(secret, method, path, ts, nonce, body):
    msg = "\n".join([method, path, ts, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


class Terminal:
    def __init__(self, port, t):
        self.port, self.id, self.secret = port, t["id"], t["secret"]
        self.provider, self.items = t["provider"], set(t["items"])
        self.conn = None

    def post(self, path, obj):
        body = json.dumps(obj).encode()
        for attempt in range(60):
            ts, nonce = str(int(time.time())), uuid.uuid4().hex
            headers = {"Content-Type": "application/json", "X-Terminal-Id": self.id,
                       "X-Timestamp": ts, "X-Nonce": nonce,
                       "X-Signature": sign(self.secret, "POST", path, ts, nonce, body)}
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.conn.request("POST", path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                self.conn = None
                status, data = 0, b""
            if status not in (0, 503):
                return status, json.loads(data) if data else {}
            time.sleep(min(0.1 * (attempt + 1), 1.0))  # same request_id again
        return status, {}


class Sim:
    def __init__(self, fleet, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.cards = [c for c in fleet["cards"] if c["items"]]
        self.by_item = {}
        for t in fleet["terminals"]:
            for item in t["items"]:
                self.by_item.setdefault(item, []).append(t)
        self.cards = [c for c in self.cards if any(i in self.by_item for i in c["items"])]
        self.terminals = fleet["terminals"]
        self.homes = {}
        # the planted hoppers: the first cards (by number) with a second
        # provider for one of their items
        self.hoppers = {}
        for c in sorted(self.cards, key=lambda c: c["card_no"]):
            if len(self.hoppers) >= args.hoppers:
                break
            home = self.home(c)
            away = [t for t in self.terminals if t["provider"] != home["provider"] and
                    set(t["items"]) & set(c["items"])]
            if away:
                self.hoppers[c["card_no"]] = away[0]
        # the service list covered: for every item a terminal takes, one card
        # that has it and whose own provider offers it swipes it first
        self.cover = []
        for item in sorted(self.by_item):
            mine = [c for c in sorted(self.cards, key=lambda c: c["card_no"])
                    if item in c["items"] and c["card_no"] not in self.hoppers]
            have = [c for c in mine if item in self.home(c)["items"]]
            taken = {c["card_no"] for c, _ in self.cover}
            free = [c for c in mine if c["card_no"] not in taken]
            if not have and free:
                # nobody's own provider offers it (a child whose other items
                # are at a school): that child's own provider becomes one
                # that does, the one offering most of the card's items (a
                # card not already swiping another item: no provider hop)
                c = free[0]
                ts = [t for t in self.terminals if item in t["items"]]
                self.homes[c["card_no"]] = max(
                    ts, key=lambda t: (len(set(t["items"]) & set(c["items"])), t["id"]))
                have = [c]
            if have:
                self.cover.append((have[len(have) // 2], item))
        self.items_swiped = set()
        # each provider's quality: the mean of its scores, 1.8 .. 4.9
        self.quality = {t["provider"]: 1.8 + 3.1 * (int(hashlib.sha256(
            t["provider"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF) for t in fleet["terminals"]}
        self.lock = threading.Lock()
        self.counts = {}
        self.sent = 0
        self.stop = threading.Event()

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def home(self, card):
        """The terminal a cardholder goes to for all the card's items: of
        the providers designated for most of them, one chosen by the card
        number (deterministic, so every thread and run agrees)."""
        key = card["card_no"]
        if key not in self.homes:
            mine = set(card["items"])
            best = max(len(set(t["items"]) & mine) for t in self.terminals)
            ts = [t for t in self.terminals if len(set(t["items"]) & mine) == best]
            self.homes[key] = ts[int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(ts)]
        return self.homes[key]

    def one(self, rng, terms, card):
        self.visit(rng, terms, card, self.home(card))
        away = self.hoppers.get(card["card_no"])
        if away is not None:  # planted: the same card at another provider at once
            self.visit(rng, terms, card, away)

    def visit(self, rng, terms, card, t, item=None):
        forced = item is not None
        items = sorted(i for i in card["items"] if i in t["items"])
        if not forced:
            item = items[int(card["card_no"][-4:]) % len(items)] if rng.random() < 0.9 else \
                rng.choice(items)
        info = card["items"][item]
        term = terms.setdefault(t["id"], Terminal(self.args.port, t))
        # within what the item allows and what was issued for it: a priced
        # item by whole sessions at its price (under the daily cap), a
        # credit item up to its standard a swipe
        cap = info["issued_fen"]
        priced = info.get("kind") == "priced"
        if priced:
            price = info["standard_fen"]
            cap = min(cap, info.get("daily_cap_fen") or cap)
            amount = price * max(1, int(cap // price * rng.uniform(0.05, 0.3)))
        else:
            if info["standard_fen"] > 0:
                cap = min(cap, info["standard_fen"])
            amount = max(1, int(cap * rng.uniform(0.05, 0.3)))
        pin = card["pin"]
        roll = 1.0 if forced else rng.random()
        if roll < 0.03:
            pin = "%06d" % ((int(pin) + 1) % 10 ** 6)
        elif roll < 0.05:
            others = [x for x in self.by_item if x not in t["items"]]
            if others:
                item = rng.choice(others)
        elif roll < 0.06 and info["standard_fen"] > 0:
            # over the standard (credit), or not a whole number of sessions
            amount = info["standard_fen"] + (info["standard_fen"] // 2 if priced else 100)
        st, doc = term.post("/v1/swipes", {"request_id": uuid.uuid4().hex,
                                           "card_no": card["card_no"], "pin": pin,
                                           "item_code": item, "amount_fen": amount})
        if st != 200:
            self.count("error %s" % (doc.get("error", {}).get("code") or st))
            return
        if doc.get("decision") != "approved":
            self.count("declined " + doc.get("reason", "?"))
            return
        self.count("approved")
        self.count("approved_fen", amount)
        with self.lock:
            self.items_swiped.add(item)
        if rng.random() < 0.02:
            st, _ = term.post("/v1/swipes/%s/reversal" % doc["swipe_id"],
                              {"request_id": uuid.uuid4().hex})
            self.count("reversed" if st == 200 else "reversal refused %d" % st)
            if st == 200:
                self.count("reversed_fen", amount)
            return
        if rng.random() < 0.7:
            q = self.quality[term.provider]
            score = min(5, max(1, int(round(rng.gauss(q, 0.8)))))
            tags = rng.sample(TAGS_GOOD if score >= 4 else TAGS_BAD, rng.randint(0, 2))
            st, _ = term.post("/v1/ratings", {"request_id": uuid.uuid4().hex,
                                              "swipe_id": doc["swipe_id"], "score": score,
                                              "tags": tags})
            self.count("rated" if st == 202 else "rating refused %d" % st)

    def worker(self, idx):
        rng = random.Random(self.args.seed * 1000 + idx)
        terms = {}
        # this thread's cardholders, each in turn: a card comes back after
        # every other card of the thread has had its turn
        mine = self.cards[idx::self.args.threads]
        rng.shuffle(mine)
        cover = self.cover[idx::self.args.threads]
        turn = 0
        per = self.args.rate / self.args.threads if self.args.rate > 0 else 0
        due = time.monotonic()
        while not self.stop.is_set():
            if per:
                due += 1.0 / per
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            if cover:
                card, item = cover.pop()
                self.visit(rng, terms, card, self.home(card), item)
            elif mine:
                self.one(rng, terms, mine[turn % len(mine)])
                turn += 1
            with self.lock:
                self.sent += 1

    def run(self):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                   for i in range(self.args.threads)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        while time.monotonic() - t0 < self.args.duration:
            time.sleep(0.5)
            self.progress(time.monotonic() - t0)
        self.stop.set()
        for th in threads:
            th.join(30)
        elapsed = time.monotonic() - t0
        self.progress(elapsed, final=True)
        return elapsed

    def progress(self, elapsed, final=False):
        if self.args.quiet:
            return
        width = 30
        done = min(1.0, elapsed / self.args.duration)
        with self.lock:
            sent, ok = self.sent, self.counts.get("approved", 0)
        bar = "#" * int(done * width) + "-" * (width - int(done * width))
        sys.stderr.write("\r  [%s] %3d%%  %6d swipes  %6d approved  %5.0f/s" % (
            bar, done * 100, sent, ok, sent / max(elapsed, 1e-9)))
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fleet", required=True)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--hoppers", type=int, default=1,
                    help="cards planted to swipe at two providers one right after the other (provider_hop)")
    args = ap.parse_args()
    if args.duration <= 0 or args.threads <= 0 or args.rate < 0:
        ap.error("--duration and --threads must be above 0, --rate at least 0")
    with open(args.fleet) as f:
        fleet = json.load(f)
    sim = Sim(fleet, args)
    if not sim.cards:
        sys.exit("traffic: no card is entitled to an item a terminal's provider is designated for")
    elapsed = sim.run()
    c = dict(sim.counts)
    out = {"seconds": round(elapsed, 1), "swipes": sim.sent,
           "planted_hops": sorted({t["provider"] for t in sim.hoppers.values()} |
                                  {sim.home(c)["provider"] for c in sim.cards
                                   if c["card_no"] in sim.hoppers}),
           "swipes_per_s": round(sim.sent / elapsed, 1),
           # the items a provider takes and some card holds credit for (a
           # quote item has none until its quote is approved)
           "items_offered": sorted(i for i in sim.by_item
                                   if any(i in c["items"] for c in sim.cards)),
           "items_swiped": sorted(sim.items_swiped),
           "approved": c.pop("approved", 0), "approved_fen": c.pop("approved_fen", 0),
           "reversed": c.pop("reversed", 0), "reversed_fen": c.pop("reversed_fen", 0),
           "rated": c.pop("rated", 0),
           "declined": {k[9:]: v for k, v in sorted(c.items()) if k.startswith("declined ")},
           "other": {k: v for k, v in sorted(c.items()) if not k.startswith("declined ")}}
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
