"""The foundation, end to end: the real stack comes up, every service is
ready, one event of every type goes through the shared producer and comes
back out of Kafka with its CloudEvents headers and a payload that protoc
decodes; bad configuration and a double `up` are refused cleanly.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import (BUILD, REPO, SERVICES, SPARE_ADMIN_PORTS, http_get, kcat, port_open,
                      wait_bindable)

PROTO_DIR = os.path.join(REPO, "proto")
PROTOS = sorted(glob.glob(os.path.join(PROTO_DIR, "*.proto")))


def test_every_service_ready(stack):
    for svc in SERVICES:
        port = stack.admin_port(svc)
        code, body = http_get("http://127.0.0.1:%d/readyz" % port)
        assert code == 200, "%s /readyz: %s %s" % (svc, code, body)
        code, _ = http_get("http://127.0.0.1:%d/healthz" % port)
        assert code == 200
        code, metrics = http_get("http://127.0.0.1:%d/metrics" % port)
        assert code == 200 and "onecard_process_resident_memory_bytes" in metrics
        code, _ = http_get("http://127.0.0.1:%d/nope" % port)
        assert code == 404


def test_metrics_pass_promtool(stack):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    for svc in SERVICES:
        _, metrics = http_get("http://127.0.0.1:%d/metrics" % stack.admin_port(svc))
        r = subprocess.run([promtool, "check", "metrics"], input=metrics, capture_output=True,
                           text=True)
        assert r.returncode == 0, "%s: %s" % (svc, r.stdout + r.stderr)


def kcat_one(stack, topic, partition, offset, fmt):
    r = subprocess.run([*kcat(), "-C", "-b", stack.brokers, "-t", topic, "-p", str(partition),
                        "-o", str(offset), "-c", "1", "-e", "-q", "-D", "", "-f", fmt],
                       capture_output=True, timeout=30, check=True)
    return r.stdout


def test_one_event_of_each_type_round_trips_through_kafka(stack):
    out = stack.tool("onecard-emit", stack.brokers).stdout.decode()
    events = [json.loads(line) for line in out.splitlines()]
    with open(os.path.join(REPO, "libs", "common", "event.c")) as f:
        types = re.findall(r'\{"(onecard\.v1\.\w+)"', f.read())  # the event_types table
    assert len(types) >= 15 and sorted(ev["ce_type"] for ev in events) == sorted(types), out
    for ev in events:
        headers = kcat_one(stack, ev["topic"], ev["partition"], ev["offset"], "%h").decode()
        hdr = dict(kv.split("=", 1) for kv in headers.split(","))
        assert hdr["ce_id"] == ev["event_id"]
        assert hdr["ce_type"] == ev["ce_type"]
        assert hdr["ce_specversion"] == "1.0"
        assert hdr["ce_source"] == "/onecard/emit"
        assert hdr["content-type"] == "application/protobuf"
        key = kcat_one(stack, ev["topic"], ev["partition"], ev["offset"], "%k").decode()
        assert key == ev["event_id"]
        payload = kcat_one(stack, ev["topic"], ev["partition"], ev["offset"], "%s")
        text = subprocess.run(["protoc", "-I", PROTO_DIR, "--decode=" + ev["ce_type"]] + PROTOS,
                              input=payload, capture_output=True, check=True).stdout.decode()
        assert 'event_id: "%s"' % ev["event_id"] in text, text
        # ce_time: the event's own time in RFC 3339 UTC; ce_dataschema: its message
        assert hdr["ce_dataschema"] == "urn:onecard:proto:" + ev["ce_type"], hdr
        when = re.search(r"^(?:occurred|closed)_at_ms: (\d+)$", text, re.M)
        assert when, text
        ms = int(when.group(1))
        assert hdr["ce_time"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + \
            ".%03dZ" % (ms % 1000), (hdr, ms)


def test_topics_and_partitions(stack):
    r = subprocess.run([*kcat(), "-b", stack.brokers, "-L", "-J"], capture_output=True,
                       text=True, check=True, timeout=30)
    topics = {t["topic"]: len(t["partitions"]) for t in json.loads(r.stdout)["topics"]}
    want = {}
    with open(os.path.join(REPO, "deploy", "local", "topics.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, parts, *configs = line.split()
                want[name] = (int(parts), configs[0].split(",") if configs else [])
    assert want["onecard.swipes.v1"][0] >= 6
    assert "cleanup.policy=compact" in want["onecard.registry.v1"][1]
    for name, (parts, configs) in want.items():
        assert topics.get(name) == parts, "%s: %s partitions" % (name, topics.get(name))
        if configs:
            # the broker's own view (a config unknown to it would fail creation)
            have = stack.run("topic-config", name, timeout=120).stdout
            for kv in configs:
                assert kv in have, "%s: %s not in %s" % (name, kv, have)


def test_migrations_recorded_once(stack):
    versions = stack.psql("SELECT version FROM schema_migrations ORDER BY version").split()
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "deploy", "sql",
                                                                       "*.sql")))
    assert len(versions) == len(files) and len(versions) >= 1
    assert stack.psql("SELECT count(*) FROM consumer_offsets") is not None


def test_up_twice_starts_no_second_copy(stack):
    before = stack.run("status").stdout
    r = stack.run("up")
    assert "already running" in r.stdout + r.stderr
    after = stack.run("status").stdout
    pids = lambda text: sorted(line.split()[1] for line in text.splitlines() if line.split())
    assert pids(before) == pids(after), before + after
    assert all(p.isdigit() for p in pids(before)), before


def service_env(stack, svc, **extra):
    env = dict(stack.env)
    env.update({
        "ONECARD_KAFKA_BROKERS": stack.brokers,
        "ONECARD_REDIS_PORT": str(stack.redis_port),
        "ONECARD_PG_DSN": stack.pg_dsn,
        "ONECARD_ADMIN_PORT": str(SPARE_ADMIN_PORTS[0]),
    })
    env.update(extra)
    return env


BAD_ENV = [
    ("ONECARD_ADMIN_PORT", "80a", "not an integer"),
    ("ONECARD_ADMIN_PORT", "70000", "out of range"),
    ("ONECARD_REDIS_PORT", "", "not an integer"),
    ("ONECARD_LOG_LEVEL", "loud", "unknown log level"),
    ("ONECARD_DRAIN_MS", "-1", "out of range"),
]


@pytest.mark.parametrize("var,value,reason", BAD_ENV)
def test_bad_environment_stops_the_service_naming_the_variable(stack, var, value, reason):
    for svc in SERVICES:
        env = service_env(stack, svc, **{var: value})
        r = subprocess.run([os.path.join(BUILD, "bin", "onecard-" + svc)], env=env,
                           capture_output=True, text=True, timeout=20)
        assert r.returncode != 0
        assert var in r.stderr and reason in r.stderr, "%s: %s" % (svc, r.stderr)


def test_admin_port_in_use_is_reported(stack):
    taken = stack.admin_port("ledger")  # the running ledger holds it
    env = service_env(stack, "rating", ONECARD_ADMIN_PORT=str(taken))
    r = subprocess.run([os.path.join(BUILD, "bin", "onecard-rating")], env=env,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and str(taken) in r.stderr, r.stderr


def test_sigterm_drains_and_exits_cleanly(stack):
    spare = SPARE_ADMIN_PORTS[1]
    assert not wait_bindable([spare]), "port %d stays taken" % spare
    # an instance id of its own: with the stack's, it would fence the
    # stack's settlement out of its consumer group (static membership)
    env = service_env(stack, "settlement", ONECARD_ADMIN_PORT=str(spare),
                      ONECARD_SETTLEMENT_INSTANCE="settlement-sigterm-test")
    p = subprocess.Popen([os.path.join(BUILD, "bin", "onecard-settlement")], env=env,
                         stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and http_get("http://127.0.0.1:%d/readyz" % spare)[0] != 200:
            time.sleep(0.2)
        assert http_get("http://127.0.0.1:%d/readyz" % spare)[0] == 200
        p.terminate()
        rc = p.wait(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    log = p.stderr.read()
    assert rc == 0, log
    lines = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
    events = [l["event"] for l in lines]
    assert "shutdown_draining" in events and "process_down" in events, log
    assert all(l["service"] == "settlement" for l in lines)
    assert not port_open(spare)


def test_stack_port_in_use_is_reported(stack, tmp_path):
    # A second stack in another folder on the same ports must refuse, naming
    # the port, and must not touch the running one.
    env = {"ONECARD_STATE": str(tmp_path / "other"), "ONECARD_SERVICES": ""}
    r = stack.run("up", check=False, env=env, timeout=120)
    assert r.returncode != 0
    assert str(stack.redis_port) in r.stdout + r.stderr or \
        str(stack.pg_port) in r.stdout + r.stderr or \
        str(stack.brokers.split(":")[1]) in r.stdout + r.stderr, r.stdout + r.stderr
    assert stack.run("status").returncode == 0
