"""Kafka security of the local stack (issue 19, items 1 and 2): every
listener wants SASL/SCRAM-SHA-512, the agency listener TLS too, the
StandardAuthorizer allows only what deploy/kafka/acls.txt grants, each
daemon is its own principal, and the secrets stay in the state folder.
"""
import json
import os
import re
import sqlite3
import stat
import subprocess
import time
import uuid

import pytest

from conftest import PORTS, REPO, _luhn_ok, kafka_secret, kcat
from gateway_client import Terminal, dirload, new_card

KAFKA = PORTS["ONECARD_KAFKA_PORT"]
LISTENERS = {"client": KAFKA, "controller": KAFKA + 1, "agency-tls": KAFKA + 2}
AUTHZ = ("authorization failed", "authorization_failed", "not authorized")


def run(cmd, timeout=40, input=None):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def bare_kcat():
    """kcat with no credentials at all (KCAT_CONFIG unset: no default file)."""
    return ["kcat", "-F", "/dev/null"]


def agency_tls(stack, principal):
    """kcat as an agency: SCRAM over TLS on the agency listener, trusting the
    stack's CA."""
    return [*kcat(principal), "-X", "security.protocol=SASL_SSL", "-X",
            "ssl.ca.location=" + stack.kafka_ca, "-b", stack.tls_brokers]


@pytest.mark.parametrize("name", sorted(LISTENERS))
def test_unauthenticated_client_gets_no_metadata(stack, name):
    port = LISTENERS[name]
    rc, out = run(bare_kcat() + ["-b", "127.0.0.1:%d" % port, "-L", "-m", "4"])
    assert rc != 0 and "topic \"onecard." not in out, out
    # TLS without SASL on the agency port, SASL without TLS on it: nothing
    if name == "agency-tls":
        rc, out = run(bare_kcat() + ["-X", "security.protocol=SSL", "-X",
                                     "ssl.ca.location=" + stack.kafka_ca,
                                     "-b", "127.0.0.1:%d" % port, "-L", "-m", "4"])
        assert rc != 0 and "onecard." not in out, out
    # and a PLAINTEXT producer cannot write either
    rc, out = run(bare_kcat() + ["-b", "127.0.0.1:%d" % port, "-P", "-t", "onecard.dlq.v1",
                                 "-X", "message.timeout.ms=4000"], input=b"x\n")
    assert rc != 0, out


def test_authenticated_client_gets_metadata(stack):
    """The control: the same call with the tools credential works, on the
    client listener and (as an agency) on the TLS one."""
    rc, out = run([*kcat(), "-b", stack.brokers, "-L", "-m", "10"])
    assert rc == 0 and 'topic "onecard.swipes.v1"' in out, out
    rc, out = run(agency_tls(stack, "finance") + ["-L", "-m", "10"])
    assert rc == 0 and "sasl_ssl://" in out, out


def test_wrong_password_is_refused(stack):
    for port in (KAFKA, KAFKA + 2):
        proto = "SASL_PLAINTEXT" if port == KAFKA else "SASL_SSL"
        rc, out = run(bare_kcat() + ["-X", "security.protocol=" + proto, "-X",
                                     "sasl.mechanisms=SCRAM-SHA-512", "-X",
                                     "sasl.username=tools", "-X", "sasl.password=not-the-password",
                                     "-X", "ssl.ca.location=" + stack.kafka_ca,
                                     "-b", "127.0.0.1:%d" % port, "-L", "-m", "4"])
        assert rc != 0 and "onecard." not in out, out
        assert "authentication" in out.lower(), out


def test_agency_reads_only_its_grants(stack):
    # granted: finance reads the settlement statements (empty is fine)
    rc, out = run(agency_tls(stack, "finance") + ["-C", "-t", "onecard.settlements.v1", "-o",
                                                  "beginning", "-e", "-c", "1"])
    assert rc == 0, out
    # not granted: the swipes (full card numbers) and the registry (persons)
    for topic in ("onecard.swipes.v1", "onecard.registry.v1", "onecard.topups.v1"):
        rc, out = run(agency_tls(stack, "finance") + ["-C", "-t", topic, "-o", "beginning",
                                                      "-e", "-c", "1"])
        assert rc != 0, out
        assert "TOPIC_AUTHORIZATION_FAILED" in out.upper().replace(" ", "_"), out
    # a group outside the agency's own prefix is refused as well
    rc, out = run(agency_tls(stack, "finance") + ["-G", "onecard-ledger", "onecard.settlements.v1",
                                                  "-e", "-c", "1", "-X",
                                                  "auto.offset.reset=earliest"], timeout=60)
    assert rc != 0 and any(a in out.lower() for a in AUTHZ), out


def test_service_cannot_write_a_topic_it_does_not_own(stack):
    for principal, topic in (("ledger", "onecard.swipes.v1"), ("rating", "onecard.registry.v1"),
                             ("gateway", "onecard.topups.v1")):
        # not quiet (-q): the delivery error is what says why
        rc, out = run(["kcat", "-F", kafka_secret(principal, "kcat.conf"), "-b", stack.brokers,
                       "-P", "-t", topic, "-X", "message.timeout.ms=8000"], input=b"forged\n")
        assert any(a in out.lower() for a in AUTHZ), (principal, topic, rc, out)
    # nor read one it does not consume
    rc, out = run([*kcat("gateway"), "-b", stack.brokers, "-C", "-t", "onecard.registry.v1",
                   "-o", "beginning", "-e", "-c", "1"])
    assert rc != 0 and "TOPIC_AUTHORIZATION_FAILED" in out.upper().replace(" ", "_"), out


def test_each_daemon_is_its_own_principal(stack):
    for s in ("gateway", "ledger", "settlement", "eligibility", "rating"):
        with open(os.path.join(stack.state, "pids", s + ".pid")) as f:
            pid = f.read().split()[0]
        with open("/proc/%s/environ" % pid, "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        assert env[b"ONECARD_KAFKA_SASL_USER"] == s.encode(), (s, env.get(b"ONECARD_KAFKA_SASL_USER"))
        assert env[b"ONECARD_KAFKA_SECURITY_PROTOCOL"] == b"sasl_plaintext"
        assert b"ONECARD_KAFKA_SASL_PASSWORD" not in env  # the file, never the value


def test_secrets_stay_in_the_state_folder(stack):
    secrets = os.path.dirname(kafka_secret("admin"))
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o700
    passwords = {}
    for name in os.listdir(secrets):
        mode = stat.S_IMODE(os.stat(os.path.join(secrets, name)).st_mode)
        assert mode == 0o600, (name, oct(mode))
        if name.endswith(".password"):
            with open(os.path.join(secrets, name)) as f:
                passwords[name] = f.read().strip()
    assert len(passwords) >= 11 and all(len(p) >= 24 for p in passwords.values())
    assert stat.S_IMODE(os.stat(os.path.join(stack.state, "kafka",
                                             "server.properties")).st_mode) == 0o600
    logs = os.path.join(stack.state, "logs")
    for log in os.listdir(logs):
        with open(os.path.join(logs, log), errors="replace") as f:
            text = f.read()
        for name, pw in passwords.items():
            assert pw not in text, "%s's password in %s" % (name, log)
    # none in the repository either
    tracked = subprocess.run(["git", "-C", REPO, "grep", "-l", "-F", passwords["admin.password"]],
                             capture_output=True, text=True)
    assert tracked.stdout == "", tracked.stdout


# --------------------------------------------------------------- agency view

VIEW = "onecard.agency.swipes.v1"


def view_messages(stack, fmt="%h\t%k\t%s\n", *where):
    """Every message of the view (or where: -p P -o O -c 1), as the tools
    principal, raw bytes in kcat's format fmt."""
    r = subprocess.run([*kcat(), "-b", stack.brokers, "-C", "-t", VIEW, "-e", "-f", fmt] +
                       (list(where) or ["-o", "beginning"]),
                       capture_output=True, timeout=60, check=True)
    return r.stdout


@pytest.fixture(scope="module")
def traffic(stack):
    """Real swipes and a reversal through the gateway and the ledger, on
    cards of this module's own."""
    run = uuid.uuid4().hex[:6]
    prov, tid = "PK" + run, "TK" + run
    dirload(stack, ["item K-REHAB rehab 50000 0 0 rehabilitation",
                    "provider %s active rehabilitation K-REHAB" % prov,
                    "terminal %s %s secret-k active" % (tid, prov)])
    cards = []
    for _ in range(4):
        card = new_card()
        dirload(stack, ["card %s person-%s active 123456" % (card, card[-6:]),
                        "entitlement %s K-REHAB 0 0 central-2026" % card,
                        "wallet %s rehab 100000" % card])
        cards.append(card)
    time.sleep(2.5)  # the gateway's directory refresh
    t = Terminal(stack.gateway_port, tid, "secret-k")
    swipes = []
    for card in cards:
        for amount in (1200, 800):
            st, doc = t.swipe(card, amount, item="K-REHAB")
            assert st == 200 and doc["decision"] == "approved", doc
            swipes.append(doc["swipe_id"])
    st, doc = t.reverse(swipes[0])
    assert st == 200, doc
    want = len(swipes) + 1
    deadline = time.time() + 60
    while True:
        ours = view_messages(stack, "%s\n").count(prov.encode())
        if ours >= want or time.time() > deadline:
            break
        time.sleep(1)
    assert ours >= want, "the ledger's agency view has %d of %d" % (ours, want)
    return {"cards": cards, "provider": prov, "swipes": swipes, "want": want}


def test_agency_view_carries_no_full_card_number(stack, traffic):
    raw = view_messages(stack)
    assert raw.count(traffic["provider"].encode()) >= traffic["want"]
    for card in traffic["cards"]:
        assert card.encode() not in raw, "full card %s in the agency view" % card
        masked = (card[:6] + "*" * (len(card) - 10) + card[-4:]).encode()
        assert masked in raw, "masked card %s not in the view" % masked
    # nor any other card number: no 16-19 digit run passing Luhn, anywhere
    # (a run standing alone: inside a person id's 64 hex digits a run of 16
    # decimal digits is mere chance, about one id in 40, and no card)
    runs = re.findall(rb"(?<![0-9A-Za-z])([0-9]{16,19})(?![0-9A-Za-z])", raw)
    assert not [r for r in runs if _luhn_ok(r.decode())], runs[:5]
    # decoded: the pseudonymous person id, the masked card, nothing else
    where = view_messages(stack, "%p %o %h\n").decode().splitlines()[-1].split(" ")[:2]
    one = view_messages(stack, "%s", "-p", where[0], "-o", where[1], "-c", "1")
    text = subprocess.run(["protoc", "-I", os.path.join(REPO, "proto"),
                           "--decode=onecard.v1.AgencySwipe", "agency.proto"],
                          input=one, capture_output=True, check=True).stdout.decode()
    assert "card_no_masked:" in text and "******" in text, text
    # every agency granted the view reads it over TLS; one not granted cannot
    rc, out = run(agency_tls(stack, "audit") + ["-C", "-t", VIEW, "-o", "beginning", "-e",
                                                "-f", "%k\n"])
    assert rc == 0 and traffic["cards"][0][-4:] in out, out
    rc, out = run(agency_tls(stack, "provincial-federation") + ["-C", "-t", VIEW, "-o",
                                                                "beginning", "-e", "-c", "1"])
    assert rc != 0 and "TOPIC_AUTHORIZATION_FAILED" in out.upper().replace(" ", "_"), out


def consume(stack, db, group, *extra):
    r = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "tools", "agency", "consumer.py"),
                        "--brokers", stack.tls_brokers, "--user", "finance",
                        "--password-file", kafka_secret("finance"), "--ca", stack.kafka_ca,
                        "--group", group, "--db", db] + list(extra),
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_example_consumer_reads_dedups_and_resumes(stack, traffic, tmp_path):
    db = str(tmp_path / "finance.sqlite")
    group = "agency-finance-test-" + uuid.uuid4().hex[:6]
    ids = [h for h in view_messages(stack, "%h\n").decode().splitlines() if h]
    total = len(ids)
    distinct = len({dict(kv.split("=", 1) for kv in h.split(","))["ce_id"] for h in ids})
    assert total >= traffic["want"]
    # a first run stops half way (as a crash would, after a commit) ...
    half = total // 2
    first = consume(stack, db, group, "--max", str(half))
    assert first["read"] == half, first
    # ... the restart resumes after it: nothing read twice
    second = consume(stack, db, group, "--idle-exit", "6")
    assert second["read"] == total - half, (first, second, total)
    assert first["new"] + second["new"] == distinct, (first, second, distinct)
    # a duplicate (a producer's retry: same ce_id) is dropped, not processed again
    last = view_messages(stack, "%p %o %h\n").decode().splitlines()[-1].split(" ")
    dup_hdrs = last[2].split(",")
    value = view_messages(stack, "%s", "-p", last[0], "-o", last[1], "-c", "1")
    hdr_args = []
    for kv in dup_hdrs:
        hdr_args += ["-H", kv]
    dup = tmp_path / "dup.bin"  # a file is one message (stdin would split at newlines)
    dup.write_bytes(value)
    subprocess.run([*kcat(), "-b", stack.brokers, "-P", "-t", VIEW, "-k", "dup"] + hdr_args +
                   [str(dup)], check=True, timeout=30)
    third = consume(stack, db, group, "--idle-exit", "6")
    assert third == {"read": 1, "new": 0, "duplicates": 1, "skipped": 0, "undecodable": 0}, third
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
        bodies = [json.loads(b) for (b,) in c.execute("SELECT body FROM events")]
    assert rows == (distinct, distinct), rows
    ours = [b for b in bodies if b.get("provider_id") == traffic["provider"]]
    assert len(ours) >= traffic["want"] and all("card_no_masked" in b for b in ours), ours[:2]
    assert all(b["person_id"] for b in ours if b["kind"] == "swipe"), ours[:2]
    assert sum(b["amount_fen"] for b in ours if b["kind"] == "swipe") == 4 * 2000


def test_agency_view_is_relayed_until_acknowledged(stack, traffic):
    """The ledger may not write the view for a while (its ACL taken back:
    the broker refuses with TOPIC_AUTHORIZATION_FAILED, as it would during
    a topic's outage): a swipe journaled meanwhile gets its view once the
    write is allowed again, relayed from the ledger's outbox — at least
    once, never lost."""
    run_id = uuid.uuid4().hex[:6]
    prov, tid = "PR" + run_id, "TR" + run_id
    card = new_card()
    dirload(stack, ["provider %s active rehabilitation K-REHAB" % prov,
                    "terminal %s %s secret-r active" % (tid, prov),
                    "card %s person-%s active 123456" % (card, card[-6:]),
                    "entitlement %s K-REHAB 0 0 central-2026" % card,
                    "wallet %s rehab 100000" % card])
    time.sleep(2.5)  # the gateway's directory refresh
    failed0 = stack.metric("ledger", "onecard_ledger_agency_view_failed_total") or 0
    stack.run("kafka-acl", "remove", "ledger", "Write", VIEW)
    try:
        st, doc = Terminal(stack.gateway_port, tid, "secret-r").swipe(card, 700, item="K-REHAB")
        assert st == 200 and doc["decision"] == "approved", doc
        deadline = time.time() + 60
        while (stack.metric("ledger", "onecard_ledger_agency_view_failed_total") or 0) <= \
                failed0 and time.time() < deadline:
            time.sleep(1)
        assert (stack.metric("ledger", "onecard_ledger_agency_view_failed_total") or 0) > failed0
        assert prov.encode() not in view_messages(stack, "%s\n")
        # journaled all the same: the postings are the record
        assert stack.psql("SELECT count(*) FROM ledger_entries WHERE kind = 'swipe' AND "
                          "provider_id = '%s'" % prov) == "1"
    finally:
        stack.run("kafka-acl", "add", "ledger", "Write", VIEW)
    deadline = time.time() + 90
    while prov.encode() not in view_messages(stack, "%s\n") and time.time() < deadline:
        time.sleep(2)
    assert prov.encode() in view_messages(stack, "%s\n"), "the view was never relayed"
