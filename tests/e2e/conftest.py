"""End-to-end fixtures: the real local stack, started by the project's own
script with its state in a temporary folder and on ports of its own, so a
developer's running stack (and the machine's PostgreSQL and Redis on the
standard ports) are never touched.
"""
import glob
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STACK = os.path.join(REPO, "deploy", "local", "stack")
BUILD = os.environ.get("ONECARD_BUILD", os.path.join(REPO, "build"))

# Ports of the test stack: a base (the stack's defaults, with the gateway's
# 8080 and the admin ports' 9100 moved up next to them) plus an offset, 10000
# unless ONECARD_TEST_PORT_OFFSET says otherwise, so tests and a demo, or the
# test runs of two checkouts, can run side by side.
PORT_OFFSET = int(os.environ.get("ONECARD_TEST_PORT_OFFSET", "10000"))
PORTS = {
    "ONECARD_KAFKA_PORT": 19092 + PORT_OFFSET,
    "ONECARD_REDIS_PORT": 16379 + PORT_OFFSET,
    "ONECARD_PG_PORT": 15432 + PORT_OFFSET,
    "ONECARD_GATEWAY_PORT": 18080 + PORT_OFFSET,
    "ONECARD_OPERATOR_PORT": 18090 + PORT_OFFSET,
    "ONECARD_ADMIN_BASE_PORT": 19100 + PORT_OFFSET,
}
# Ports of services a test starts by hand, beside the stack's own.
SPARE_ADMIN_PORTS = tuple(PORTS["ONECARD_ADMIN_BASE_PORT"] + 99 - i for i in range(3))
SPARE_GATEWAY_PORT = PORTS["ONECARD_GATEWAY_PORT"] + 97
SERVICES = ["gateway", "ledger", "settlement", "eligibility", "rating"]

# The Kafka client files of the running test stack (set by the stack
# fixture): SCRAM credentials the stack generated into its state folder.
_KAFKA_SECRETS = None


def kafka_secret(principal, what="password"):
    """Path of a principal's password (or kcat.conf) in the test stack."""
    assert _KAFKA_SECRETS, "the stack fixture has not started"
    return os.path.join(_KAFKA_SECRETS, "%s.%s" % (principal, what))


def kcat(principal="tools"):
    """The start of every kcat command of the tests: kcat authenticated as
    principal (tools: an operator's read and write on every onecard topic)
    over SASL/SCRAM-SHA-512 on the client listener. Use [*kcat(), "-b", ...]."""
    return ["kcat", "-q", "-F", kafka_secret(principal, "kcat.conf")]


def port_open(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def port_bindable(port, host="127.0.0.1"):
    """True when a listener could bind port now. Closed is not enough: a
    port above 32767 is also one of the kernel's ephemeral ports
    (ip_local_port_range), and a client connection that used it and sits in
    TIME_WAIT (without SO_REUSEADDR, as clients are) blocks a bind for up
    to 60 s."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def wait_bindable(ports, timeout=75):
    """Waits until every port that nothing listens on can be bound; returns
    those that still cannot."""
    deadline = time.time() + timeout
    while True:
        busy = [p for p in ports if not port_open(p) and not port_bindable(p)]
        if not busy or time.time() > deadline:
            return busy
        time.sleep(0.2)


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
        return 0, str(e)


def kafka_client_env(principal, secrets):
    return {"ONECARD_KAFKA_SECURITY_PROTOCOL": "sasl_plaintext",
            "ONECARD_KAFKA_SASL_USER": principal,
            "ONECARD_KAFKA_SASL_PASSWORD_FILE": os.path.join(secrets, principal + ".password")}


class Stack:
    def __init__(self, state):
        self.state = state
        self.env = dict(os.environ)
        self.env.update({k: str(v) for k, v in PORTS.items()})
        self.env["ONECARD_STATE"] = state
        self.env["ONECARD_BUILD"] = BUILD
        # per-terminal budget of the test gateway: room for the concurrency
        # test, small enough for the 429 test to reach
        self.env["ONECARD_TERMINAL_RATE"] = "100"
        self.env["ONECARD_TERMINAL_BURST"] = "300"
        # the eligibility daemon's escalation sweep: off, so that a test's
        # `application sweep` is the only one (test_operator_api turns it
        # on for its own test)
        self.env["ONECARD_REVIEW_SWEEP_S"] = "0"
        # the daemon's daily 在训 attendance check: off, so that no test's
        # training items are paused behind its back (test_training runs
        # `attendance check` itself)
        self.env["ONECARD_ATTENDANCE_CHECK_HOUR"] = "-1"
        # the gauges read from tables on a timer (the ledger's light
        # reconcile and budgets, eligibility's applications): every 2 s, so
        # that a test sees what it just did
        self.env["ONECARD_LEDGER_WATCH_S"] = "2"
        self.env["ONECARD_ELIGIBILITY_GAUGES_S"] = "2"
        self.brokers = "127.0.0.1:%d" % PORTS["ONECARD_KAFKA_PORT"]
        self.tls_brokers = "127.0.0.1:%d" % (PORTS["ONECARD_KAFKA_PORT"] + 2)
        self.kafka_secrets = os.path.join(state, "kafka", "secrets")
        self.kafka_ca = os.path.join(state, "kafka", "tls", "ca.pem")
        # tools and daemons a test starts by hand authenticate as "tools";
        # the stack gives each daemon it starts its own principal
        self.env.update(kafka_client_env("tools", self.kafka_secrets))
        self.redis_port = PORTS["ONECARD_REDIS_PORT"]
        self.pg_port = PORTS["ONECARD_PG_PORT"]
        self.gateway_port = PORTS["ONECARD_GATEWAY_PORT"]
        self.operator_port = PORTS["ONECARD_OPERATOR_PORT"]
        self.pg_dsn = "host=127.0.0.1 port=%d dbname=onecard user=onecard" % self.pg_port

    def admin_port(self, service):
        return PORTS["ONECARD_ADMIN_BASE_PORT"] + 1 + SERVICES.index(service)

    def ports_of(self, name):
        if name == "kafka":
            return [PORTS["ONECARD_KAFKA_PORT"] + i for i in range(3)]  # client, controller, TLS
        if name == "redis":
            return [self.redis_port]
        if name == "postgres":
            return [self.pg_port]
        return [self.admin_port(name)] + ([self.gateway_port] if name == "gateway" else []) + \
            ([self.operator_port] if name == "eligibility" else [])

    def all_ports(self):
        return [p for name in ["kafka", "redis", "postgres"] + SERVICES
                for p in self.ports_of(name)]

    def up_or_start(self, *args, attempts=3, timeout=600):
        """`stack up`, or `stack start NAME...`, tried again (both are
        idempotent) when a port was taken meanwhile: see port_bindable."""
        names = args[1:] or ["kafka", "redis", "postgres"] + SERVICES
        ports = [p for name in names for p in self.ports_of(name)]
        for _ in range(attempts):
            wait_bindable(ports)
            r = self.run(*args, check=False, timeout=timeout)
            if r.returncode == 0:
                break
        return r

    def run(self, *args, check=True, timeout=600, env=None):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([STACK] + list(args), env=e, capture_output=True, text=True,
                              check=check, timeout=timeout)

    def tool(self, name, *args, check=True, timeout=120, input=None):
        return subprocess.run([os.path.join(BUILD, "bin", name)] + list(args), env=self.env,
                              capture_output=True, check=check, timeout=timeout, input=input)

    def metric(self, service, series):
        """The value of one series (name and labels as /metrics prints
        them) on a daemon's /metrics, or None when it is not there."""
        code, body = http_get("http://127.0.0.1:%d/metrics" % self.admin_port(service))
        assert code == 200, body
        for line in body.splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                return float(value)
        return None

    def psql(self, sql):
        out = subprocess.run(["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "onecard",
                              "-d", "onecard", "-c", sql],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()


_CARD_RUN = re.compile(r"(?<![0-9A-Za-z])([0-9]{16,19})(?![0-9A-Za-z])")


def _luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_numbers_in_logs(folder):
    """Every log line of the stack (services, Kafka, Redis, PostgreSQL)
    holding what looks like a whole card number: 16-19 digits standing
    alone with a valid Luhn check digit. Masked numbers (622288******1234)
    do not match."""
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "*.log"))):
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                if any(_luhn_ok(m) for m in _CARD_RUN.findall(line)):
                    found.append("%s:%d: %s" % (os.path.basename(path), n, line.strip()[:300]))
    return found


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    state = str(tmp_path_factory.mktemp("stack"))
    os.chmod(state, 0o755)
    s = Stack(state)
    global _KAFKA_SECRETS
    _KAFKA_SECRETS = s.kafka_secrets
    # subprocesses started without env=stack.env authenticate as tools too
    os.environ.update(kafka_client_env("tools", s.kafka_secrets))
    for port in s.all_ports():
        assert not port_open(port), "port %d is taken before the test stack starts" % port
    up = s.up_or_start("up")
    if up.returncode != 0:
        logs = s.run("logs", check=False)
        s.run("down", check=False)
        pytest.fail("stack up failed:\n%s\n%s\n%s" % (up.stdout, up.stderr, logs.stdout[-4000:]))
    yield s
    s.run("down", check=False)
    leaks = card_numbers_in_logs(os.path.join(state, "logs"))
    assert not leaks, "a full card number in a log line:\n%s" % "\n".join(leaks[:5])
    deadline = time.time() + 20
    left = s.all_ports()
    while time.time() < deadline:
        left = [p for p in s.all_ports() if port_open(p)]
        if not left:
            break
        time.sleep(0.5)
    assert not left, "ports still open after down: %s" % left
