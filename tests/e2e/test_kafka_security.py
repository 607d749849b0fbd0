"""Kafka security of the local stack (issue 19, items 1 and 2): every
listener wants SASL/SCRAM-SHA-512, the agency listener TLS too, the
StandardAuthorizer allows only what deploy/kafka/acls.txt grants, each
daemon is its own principal, and the secrets stay in the state folder.
"""
import os
import stat
import subprocess

import pytest

from conftest import PORTS, REPO, kafka_secret, kcat

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
