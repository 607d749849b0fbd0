"""The rating service against the real stack: a rating through the gateway
is accepted and scored; ratings for a swipe that does not exist, was
reversed, belongs to another terminal, is stale, or was rated already are
rejected with their reason, on the DLQ and counted per provider; a rating
that overtakes its swipe waits for it; a replayed event counts once; the
per-card cap and the 5-star burst flag; kill -9 mid-stream counts nothing
twice; the year-end review lists the weak providers and, confirmed, runs the
registry's suspension command and records each outcome.

Events the gateway would refuse (stale, unknown swipes) are produced
directly with onecard-rating-produce.
"""
import json
import os
import random
import signal
import subprocess
import time
import uuid

import pytest

from conftest import BUILD, kcat
from gateway_client import Terminal, dirload, luhn_complete

os.environ.setdefault("ONECARD_BUILD", BUILD)
# A rating whose swipe never comes waits this long (and for the consumer to
# have read everything) before it is rejected as swipe_unknown. Read by the
# rating service the stack starts.
os.environ["ONECARD_RATING_GRACE_MS"] = "4000"

DAY = 86400


@pytest.fixture(scope="module")
def rt(stack):
    run = uuid.uuid4().hex[:6]
    return {"stack": stack, "run": run}


def produce(stack, lines):
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-rating-produce"), stack.brokers],
                       input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(l)["event_id"] for l in r.stdout.splitlines() if l]


def high_watermarks(stack, topic, parts):
    total = 0
    for p in range(parts):
        out = subprocess.run([*kcat(), "-b", stack.brokers, "-Q", "-t", "%s:%d:-1" % (topic, p)],
                             capture_output=True, text=True)
        total += int(out.stdout.split()[-1]) if out.returncode == 0 and out.stdout else 0
    return total


def caught_up(stack):
    hw = high_watermarks(stack, "onecard.ratings.v1", 6) + \
        high_watermarks(stack, "onecard.swipes.v1", 6)
    stored = int(stack.psql("SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE "
                            "consumer_group = 'onecard-rating'"))
    return stored == hw


def wait_for(pred, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    pytest.fail("timed out waiting for " + what)


def q(stack, sql):
    return stack.psql(sql)


def verdict(stack, event_id):
    """accepted, pending, or the rejection's reason code ("" when unseen)."""
    if q(stack, "SELECT count(*) FROM rating_accepted WHERE event_id = '%s'" % event_id) == "1":
        return "accepted"
    if q(stack, "SELECT count(*) FROM rating_pending WHERE event_id = '%s'" % event_id) == "1":
        return "pending"
    return q(stack, "SELECT string_agg(reason_code, ',') FROM rating_rejected WHERE event_id = "
                    "'%s'" % event_id)


def dlq_reasons(stack):
    """ce_id -> onecard_dlq_reason of every record on the DLQ."""
    out = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", "onecard.dlq.v1", "-o",
                          "beginning", "-e", "-q", "-f", "%h\n"],
                         capture_output=True, text=True, timeout=60).stdout
    got = {}
    for line in out.splitlines():
        h = dict(kv.split("=", 1) for kv in line.split(",") if "=" in kv)
        if "ce_id" in h:
            got[h["ce_id"]] = h.get("onecard_dlq_reason", "")
    return got


def rating_pid(stack):
    with open(os.path.join(stack.state, "pids", "rating.pid")) as f:
        return int(f.read().split()[0])


def restart_rating(stack):
    r = stack.run("up", check=False, env={"ONECARD_SERVICES": "rating"})
    assert r.returncode == 0, r.stdout + r.stderr


def card(run, i):
    return "6288%s%06d" % (run[:4].translate(str.maketrans("abcdef", "123456")), i)


# ------------------------------------------------------------------ gateway


def test_gateway_rating_is_accepted_and_scored(rt):
    stack, run = rt["stack"], rt["run"]
    prov, t_id = "PG" + run, "TG" + run
    c = luhn_complete("6288" + str(random.randrange(10 ** 11)).zfill(11))
    dirload(stack, ["item R-REHAB rehab 50000 0 0 rehabilitation",
                    "provider %s active rehabilitation R-REHAB" % prov,
                    "terminal %s %s secret-r active" % (t_id, prov),
                    "card %s person-%s active 123456" % (c, c[-6:]),
                    "entitlement %s R-REHAB 0 0 central-2026" % c,
                    "wallet %s rehab 100000" % c])
    time.sleep(2.5)  # the gateway's directory refresh
    t = Terminal(stack.gateway_port, t_id, "secret-r")
    st, doc = t.swipe(c, 1000, item="R-REHAB")
    assert st == 200, doc
    sid = doc["swipe_id"]
    st, doc = t.post("/v1/ratings", {"request_id": uuid.uuid4().hex, "swipe_id": sid,
                                     "score": 4, "tags": ["kind", "on-time"]})
    assert st == 202, doc
    wait_for(lambda: q(stack, "SELECT n FROM rating_scores WHERE provider_id = '%s' AND "
                              "item_code = ''" % prov) == "1", what="the score")
    assert q(stack, "SELECT n, sum, d4 FROM rating_scores WHERE provider_id = '%s' AND "
                    "item_code = 'R-REHAB'" % prov) == "1|4|1"
    assert q(stack, "SELECT category FROM rating_providers WHERE provider_id = '%s'" % prov) \
        == "rehabilitation"
    assert q(stack, "SELECT string_agg(tag || ':' || n, ',' ORDER BY tag) FROM rating_tags "
                    "WHERE provider_id = '%s'" % prov) == "kind:1,on-time:1"
    # the first score of a provider is always published (after the commit)
    def published():
        out = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t",
                              "onecard.provider-scores.v1", "-o", "beginning", "-e", "-q", "-f",
                              "%k\n"], capture_output=True, text=True, timeout=60).stdout
        return prov in out.split()
    wait_for(published, what="the ProviderScore event")
    # the score marked published is the Bayesian average against the mean of
    # every rating of the provider's category (weight 50, half up)
    n, s = map(int, q(stack, "SELECT sum(s.n), sum(s.sum) FROM rating_scores s JOIN "
                             "rating_providers p USING (provider_id) WHERE s.item_code = '' "
                             "AND p.category = 'rehabilitation'").split("|"))
    prior = (s * 1000 + n // 2) // n
    want = (50 * prior + 4 * 1000 + 51 // 2) // 51
    assert q(stack, "SELECT string_agg(published_milli::text, ',' ORDER BY item_code) FROM "
                    "rating_scores WHERE provider_id = '%s'" % prov) == "%d,%d" % (want, want)


# --------------------------------------------------------------- rejections


def test_rejections_have_their_reason_on_the_dlq_and_per_provider(rt):
    stack, run = rt["stack"], rt["run"]
    p, t1, t2 = "PR" + run, "TR1" + run, "TR2" + run
    s = {k: "%s-%s" % (k, run) for k in ("ok", "rev", "other", "stale", "dup", "none", "bad")}
    c = card(run, 1)
    swipes = [
        "swipe %s %s %s %s R-REHAB now-60" % (s["ok"], c, t1, p),
        "swipe %s %s %s %s R-REHAB now-60" % (s["rev"], c, t1, p),
        "reverse %s %s %s %s R-REHAB now-30" % (s["rev"], c, t1, p),
        "swipe %s %s %s %s R-REHAB now-60" % (s["other"], c, t1, p),
        "swipe %s %s %s %s R-REHAB now-%d" % (s["stale"], c, t1, p, 8 * DAY),
        "swipe %s %s %s %s R-REHAB now-60" % (s["dup"], c, t1, p),
        "swipe %s %s %s %s R-REHAB now-60" % (s["bad"], c, t1, p),
    ]
    produce(stack, swipes)
    wait_for(lambda: caught_up(stack), what="the swipes")
    ids = produce(stack, [
        "rating - %s %s %s %s 5 now" % (s["ok"], c, t1, p),
        "rating - %s %s %s %s 5 now" % (s["rev"], c, t1, p),
        "rating - %s %s %s %s 5 now" % (s["other"], c, t2, p),
        "rating - %s %s %s %s 5 now" % (s["stale"], c, t1, p),
        "rating - %s %s %s %s 4 now" % (s["dup"], c, t1, p),
        "rating - %s %s %s %s 1 now" % (s["dup"], c, t1, p),
        "rating - %s %s %s %s 5 now" % (s["none"], c, t1, p),
        "rating - %s %s %s %s 9 now" % (s["bad"], c, t1, p),
    ])
    want = ["accepted", "swipe_reversed", "swipe_of_another_terminal", "too_old", "accepted",
            "already_rated", "swipe_unknown", "invalid"]
    # swipe_unknown comes only after the grace period (4 s here)
    wait_for(lambda: all(verdict(stack, i) not in ("", "pending") for i in ids), timeout=60,
             what="every rating decided")
    assert [verdict(stack, i) for i in ids] == want
    dlq = wait_for(lambda: (lambda d: d if all(i in d for i, w in zip(ids, want)
                                               if w != "accepted") else None)(dlq_reasons(stack)),
                   what="the dead letters")
    for i, w in zip(ids, want):
        if w == "accepted":
            assert i not in dlq
        else:
            assert dlq[i].startswith(w + ":"), (w, dlq[i])
    # counted per provider, by reason
    rows = q(stack, "SELECT reason_code, count(*) FROM rating_rejected WHERE provider_id = '%s' "
                    "GROUP BY 1 ORDER BY 1" % p)
    assert rows.splitlines() == ["already_rated|1", "invalid|1", "swipe_of_another_terminal|1",
                                 "swipe_reversed|1", "swipe_unknown|1", "too_old|1"]
    # only the two accepted ones are scored
    assert q(stack, "SELECT n, sum FROM rating_scores WHERE provider_id = '%s' AND item_code = ''"
             % p) == "2|9"


def test_reversal_after_the_rating_takes_it_back(rt):
    stack, run = rt["stack"], rt["run"]
    p, t = "PB" + run, "TB" + run
    sid, c = "late-rev-" + run, card(run, 2)
    produce(stack, ["swipe %s %s %s %s R-REHAB now-60" % (sid, c, t, p)])
    [rid] = produce(stack, ["rating - %s %s %s %s 5 now" % (sid, c, t, p)])
    wait_for(lambda: verdict(stack, rid) == "accepted", what="the rating")
    produce(stack, ["reverse %s %s %s %s R-REHAB now" % (sid, c, t, p)])
    wait_for(lambda: verdict(stack, rid) == "reversed_after_rating", what="the take-back")
    assert q(stack, "SELECT n, sum, d5 FROM rating_scores WHERE provider_id = '%s' AND "
                    "item_code = ''" % p) == "0|0|0"


def test_rating_ahead_of_its_swipe_waits_for_it(rt):
    stack, run = rt["stack"], rt["run"]
    p, t = "PA" + run, "TA" + run
    sid, c = "ahead-" + run, card(run, 3)
    [rid] = produce(stack, ["rating - %s %s %s %s 4 now" % (sid, c, t, p)])
    wait_for(lambda: verdict(stack, rid) == "pending", what="the rating parked")
    time.sleep(1.0)
    produce(stack, ["swipe %s %s %s %s R-REHAB now-10" % (sid, c, t, p)])
    wait_for(lambda: verdict(stack, rid) == "accepted", what="the parked rating accepted")
    assert q(stack, "SELECT n FROM rating_scores WHERE provider_id = '%s' AND item_code = ''"
             % p) == "1"


def test_replayed_event_counts_once(rt):
    stack, run = rt["stack"], rt["run"]
    p, t = "PD" + run, "TD" + run
    sid, c = "replay-" + run, card(run, 4)
    eid = "replay-event-" + run
    produce(stack, ["swipe %s %s %s %s R-REHAB now-60" % (sid, c, t, p)])
    produce(stack, ["rating %s %s %s %s %s 5 now" % (eid, sid, c, t, p)] * 3)
    wait_for(lambda: caught_up(stack), what="the replays")
    assert verdict(stack, eid) == "accepted"
    assert q(stack, "SELECT count(*) FROM rating_rejected WHERE event_id = '%s'" % eid) == "0"
    assert q(stack, "SELECT n FROM rating_scores WHERE provider_id = '%s' AND item_code = ''"
             % p) == "1"


def test_cap_per_card_and_burst_flag(rt):
    stack, run = rt["stack"], rt["run"]
    p, t = "PC" + run, "TC" + run
    c = card(run, 5)
    swipes = ["swipe cap-%s-%d %s %s %s R-REHAB now-30" % (run, i, c, t, p) for i in range(12)]
    produce(stack, swipes)
    ids = produce(stack, ["rating - cap-%s-%d %s %s %s 5 now" % (run, i, c, t, p)
                          for i in range(12)])
    wait_for(lambda: caught_up(stack), what="the ratings")
    got = [verdict(stack, i) for i in ids]
    assert got == ["accepted"] * 10 + ["over_cap"] * 2, got
    # ten 5-star ratings 30 s after their swipes at one terminal: a burst
    assert q(stack, "SELECT n FROM rating_bursts WHERE terminal_id = '%s'" % t) == "10"


# ------------------------------------------------------------ kill -9


def test_kill_9_mid_stream_counts_nothing_twice(rt):
    stack, run = rt["stack"], rt["run"]
    n, nprov = 20000, 40
    lines = []
    for i in range(n):
        lines.append("swipe k9-%s-%d %s TK%s-%d PK%s-%d K-ITEM now-600"
                     % (run, i, card(run, 100 + i % 5000), run, i % nprov, run, i % nprov))
    produce(stack, lines)
    lines = []
    expect = {}
    for i in range(n):
        k = i % nprov
        score = 1 + (k % 5) if i % 3 else 1 + ((k + 1) % 5)
        expect[k] = expect.get(k, 0) + score
        lines.append("rating - k9-%s-%d %s TK%s-%d PK%s-%d %d now"
                     % (run, i, card(run, 100 + i % 5000), run, k, run, k, score))
    producer = subprocess.Popen([os.path.join(BUILD, "bin", "onecard-rating-produce"),
                                 stack.brokers], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    producer.stdin.write("\n".join(lines) + "\n")
    producer.stdin.close()
    kills = 0
    for _ in range(6):
        time.sleep(random.uniform(0.3, 1.0))
        os.kill(rating_pid(stack), signal.SIGKILL)
        kills += 1
        time.sleep(random.uniform(0.0, 0.3))
        restart_rating(stack)
    assert producer.wait(timeout=300) == 0, producer.stderr.read()
    wait_for(lambda: caught_up(stack), timeout=180, what="the stream")
    assert kills == 6
    like = "k9-%s-%%" % run
    assert q(stack, "SELECT count(*) FROM rating_accepted WHERE swipe_id LIKE '%s'" % like) \
        == str(n)
    assert q(stack, "SELECT count(*) FROM rating_rejected WHERE swipe_id LIKE '%s'" % like) == "0"
    rows = q(stack, "SELECT provider_id, n, sum, d1 + d2 + d3 + d4 + d5 FROM rating_scores "
                    "WHERE provider_id LIKE 'PK%s-%%' AND item_code = '' ORDER BY 1" % run)
    got = {}
    for r in rows.splitlines():
        pid, cnt, sm, dist = r.split("|")
        assert cnt == dist, r
        got[int(pid.rsplit("-", 1)[1])] = (int(cnt), int(sm))
    assert got == {k: (n // nprov, expect[k]) for k in range(nprov)}
    # the item row and the month row agree with the provider row
    assert q(stack, "SELECT count(*) FROM rating_scores s JOIN rating_monthly m USING "
                    "(provider_id, item_code) WHERE s.provider_id LIKE 'PK%s-%%' AND "
                    "(s.n <> m.n OR s.sum <> m.sum)" % run) == "0"


# ------------------------------------------------------------------ review


def review(stack, *args, env=None):
    e = dict(stack.env, ONECARD_PG_DSN=stack.pg_dsn)
    e.update(env or {})
    return subprocess.run([os.path.join(BUILD, "bin", "onecard-rating"), "review"] + list(args),
                          env=e, capture_output=True, text=True, timeout=120)


def test_review_lists_and_confirms(rt, tmp_path):
    """Uses the providers of the kill -9 test: PK<run>-k averages about
    (k % 5) + 1 over 500 ratings each."""
    stack, run = rt["stack"], rt["run"]
    year = time.gmtime().tm_year
    r = review(stack, "--year", str(year), "--min-ratings", "30", "--below", "2.5",
               "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    mine = [x for x in doc["listed"] if x["provider_id"].startswith("PK%s-" % run)]
    ks = sorted(int(x["provider_id"].rsplit("-", 1)[1]) for x in mine)
    assert ks == [k for k in range(40) if k % 5 in (0, 1)], ks  # means 1.33 and 2.33
    x = mine[0]
    assert x["ratings"] == 500 and sum(x["distribution"]) == 500 and x["bayes_milli"] < 2500
    assert "below 2.500" in x["reason"]
    # text format and bad arguments
    r = review(stack, "--year", str(year), "--bottom-pct", "10")
    assert r.returncode == 0 and "bottom 10%" in r.stdout, r.stderr
    r = review(stack, "--year", str(year), "--below", "seven")
    assert r.returncode == 2 and "--below" in r.stderr

    # confirmed: the registry's command runs once per provider, with its reason
    log = tmp_path / "calls"
    fake = tmp_path / "onecard-eligibility"
    fake.write_text("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\ncase \"$3\" in *-0) exit 3;; "
                    "esac\nexit 0\n" % log)
    fake.chmod(0o755)
    r = review(stack, "--year", str(year), "--min-ratings", "30", "--below", "2.5", "--confirm",
               env={"ONECARD_ELIGIBILITY_BIN": str(fake)})
    assert r.returncode == 1, r.stdout + r.stderr  # PK<run>-0 failed on purpose
    assert "PK%s-0 NOT suspended" % run in r.stderr and "status 3" in r.stderr
    calls = [l for l in log.read_text().splitlines() if "PK%s-" % run in l]
    assert len(calls) == 16, calls  # 16 listed providers of this run (others may be listed too)
    assert all(l.startswith("provider suspend PK%s-" % run) and "--actor rating-review" in l
               for l in calls), calls
    rows = q(stack, "SELECT action, count(*) FROM rating_review WHERE provider_id LIKE "
                    "'PK%s-%%' GROUP BY 1 ORDER BY 1" % run)
    assert rows.splitlines() == ["suspend_failed|1", "suspended|15"]
    # run again: the suspended ones are skipped, the failed one is tried again
    log.write_text("")
    r = review(stack, "--year", str(year), "--min-ratings", "30", "--below", "2.5", "--confirm",
               env={"ONECARD_ELIGIBILITY_BIN": str(fake)})
    calls = [l for l in log.read_text().splitlines() if "PK%s-" % run in l]
    assert [c.split()[2] for c in calls] == ["PK%s-0" % run], calls
    # no registry binary at all: a clear failure, recorded
    r = review(stack, "--year", str(year), "--min-ratings", "30", "--below", "2.5", "--confirm",
               env={"ONECARD_ELIGIBILITY_BIN": "/nonexistent/onecard-eligibility"})
    assert r.returncode == 1 and "cannot run /nonexistent/onecard-eligibility" in r.stderr


# ------------------------------------------------------------ catching up


def test_catching_up_reads_swipes_first(rt):
    """A service started on a backlog of swipes and their ratings pauses the
    ratings while the swipes are more than 4 batches behind (batches of 500
    here), instead of parking the ratings that overtake their swipe: every
    rating still counts once, and few wait. The backlog is larger
    than the consumer's 8 MiB prefetch, so that the two topics interleave."""
    stack, run = rt["stack"], rt["run"]
    n, nprov = 60000, 300
    r = stack.run("stop", "rating", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    produce(stack, ["swipe cu-%s-%d %s TC%s-%d PC%s-%d C-ITEM now-600"
                    % (run, i, card(run, 20000 + i), run, i % nprov, run, i % nprov)
                    for i in range(n)])
    produce(stack, ["rating - cu-%s-%d %s TC%s-%d PC%s-%d 5 now"
                    % (run, i, card(run, 20000 + i), run, i % nprov, run, i % nprov)
                    for i in range(n)])
    log = os.path.join(stack.state, "logs", "rating.log")
    start = os.path.getsize(log) if os.path.exists(log) else 0
    r = stack.run("up", check=False, env={"ONECARD_SERVICES": "rating",
                                          "ONECARD_RATING_BATCH": "500"})
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        wait_for(lambda: caught_up(stack) and q(stack, "SELECT count(*) FROM rating_pending "
                                                       "WHERE swipe_id LIKE 'cu-%s-%%'" % run)
                 == "0", timeout=240, what="the backlog")
        like = "cu-%s-%%" % run
        assert q(stack, "SELECT count(*) FROM rating_accepted WHERE swipe_id LIKE '%s'" % like) \
            == str(n)
        assert q(stack, "SELECT count(*) FROM rating_rejected WHERE swipe_id LIKE '%s'" % like) \
            == "0"
        assert q(stack, "SELECT sum(n), sum(d5) FROM rating_scores WHERE provider_id LIKE "
                        "'PC%s-%%' AND item_code = ''" % run) == "%d|%d" % (n, n)
        with open(log) as f:
            f.seek(start)
            events = [json.loads(l).get("event") for l in f if l.startswith("{")]
        assert "ratings_paused" in events and "ratings_resumed" in events
        out = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/metrics"
                              % stack.admin_port("rating")], capture_output=True, text=True)
        parked = [l for l in out.stdout.splitlines()
                  if l.startswith('onecard_rating_ratings_total{verdict="pending"}')]
        assert parked, out.stdout[:500]
        # only ratings read before the swipes' ends were known (the first
        # fetch) may have waited: a few batches at most. Without the pause,
        # how many wait depends on which topic the fetches bring first: 5,663
        # and 47,800 in two runs (0 in a third, which this cannot catch).
        assert float(parked[0].split()[-1]) <= 4 * 500, parked
    finally:
        restart = stack.run("stop", "rating", check=False)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        restart_rating(stack)
