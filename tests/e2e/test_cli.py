"""The command line of every binary (libs/common/cli.h), issue 18 item 5.

Without the stack: every binary refuses an unknown option, an unknown
command and an argument after `serve` with exit 2 within a second, the word
named on stderr, no port opened and no process left; `--help` lists every
command and `COMMAND --help` prints its usage; `--print-config-names` is
the config table. With the stack: a command run in its daemon's own
environment (the same ONECARD_ADMIN_PORT, names and addresses) while the
daemon runs succeeds; `--format json` reports parse; a command whose
PostgreSQL is unreachable exits 3; a site deployment refuses the public
default secrets.
"""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import BUILD, PORTS, SERVICES, port_bindable, port_open

BINARIES = ["onecard-gateway", "onecard-ledger", "onecard-settlement", "onecard-eligibility",
            "onecard-rating"]

# every command each binary must list (the and the task's)
COMMANDS = {
    "onecard-gateway": [],
    "onecard-ledger": ["reconcile", "rebuild-cache", "allocate", "report", "lapse",
                       "return-credit"],
    "onecard-settlement": ["close", "release", "bank-account", "person-account", "report"],
    "onecard-eligibility": ["catalogue", "person", "card", "provider", "terminal", "import",
                            "import-feed", "synth", "rebuild-directory", "issue", "ages",
                            "operator", "application", "quote", "reimburse", "attendance"],
    "onecard-rating": ["review"],
}

BAD = [["--version2"], ["--no-such-option"], ["-x"], ["no-such-command"], ["serve", "extra"],
       ["--help-me"]]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_env(admin_port):
    """Every dependency at a closed port: a daemon that did start would sit
    retrying, its admin port open."""
    e = dict(os.environ)
    e.update(ONECARD_KAFKA_BROKERS="127.0.0.1:1", ONECARD_REDIS_PORT="1",
             ONECARD_PG_DSN="host=127.0.0.1 port=1 dbname=none user=none connect_timeout=1",
             ONECARD_ADMIN_PORT=str(admin_port), ONECARD_HTTP_PORT=str(free_port()),
             ONECARD_OPERATOR_PORT="0")
    return e


def run(binary, args, env=None, timeout=120):
    return subprocess.run([os.path.join(BUILD, "bin", binary)] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("binary", BINARIES)
@pytest.mark.parametrize("args", BAD, ids=lambda a: " ".join(a))
def test_unknown_is_a_usage_error(binary, args):
    admin = free_port()
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "bin", binary)] + args, env=closed_env(admin),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=1)
    except subprocess.TimeoutExpired:
        opened = port_open(admin)
        p.kill()
        p.communicate()
        pytest.fail("%s %s still running after 1 s (admin port open: %s)"
                    % (binary, args, opened))
    took = time.monotonic() - t0
    assert p.returncode == 2, (p.returncode, err)
    assert args[-1] in err, err
    assert "--help" in err, err
    assert out == "", out
    assert took < 1.0, took
    # nothing left: the process is gone and nothing holds its admin port
    with pytest.raises(ProcessLookupError):
        os.kill(p.pid, 0)
    assert port_bindable(admin)


@pytest.mark.parametrize("binary", BINARIES)
def test_help_lists_commands_and_configuration(binary):
    r = run(binary, ["--help"], timeout=5)
    assert r.returncode == 0, r.stderr
    listed = re.findall(r"^  ([a-z][a-z-]*) ", r.stdout.split("命令 / commands:")[-1]
                        .split("退出码")[0], re.M) if COMMANDS[binary] else []
    assert listed == COMMANDS[binary], r.stdout
    assert "serve" in r.stdout and "ONECARD_ADMIN_PORT" in r.stdout and \
        "ONECARD_DEPLOYMENT" in r.stdout, r.stdout
    assert "3 依赖失败 a dependency failed" in r.stdout, r.stdout
    names = run(binary, ["--print-config-names"], timeout=5)
    assert names.returncode == 0
    assert "ONECARD_ADMIN_PORT" in names.stdout.split() and \
        "ONECARD_KAFKA_BROKERS" in names.stdout.split(), names.stdout
    for name in names.stdout.split():
        assert name in r.stdout, name
    v = run(binary, ["--version"], timeout=5)
    assert v.returncode == 0 and v.stdout.startswith(binary + " "), v.stdout


@pytest.mark.parametrize("binary,command",
                         [(b, c) for b in BINARIES for c in COMMANDS[b]])
def test_command_help(binary, command):
    admin = free_port()
    for args in ([command, "--help"], [command, "-h"], ["help", command]):
        r = run(binary, args, env=closed_env(admin), timeout=5)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stdout.startswith("usage: %s %s" % (binary, command)), r.stdout
        assert r.stderr == "", r.stderr


# ---------------------------------------------------------------- with the stack

def daemon_env(stack, service):
    """The environment deploy/local/stack gives the daemon."""
    e = dict(stack.env)
    e.update(ONECARD_SERVICE_NAME=service, ONECARD_KAFKA_BROKERS=stack.brokers,
             ONECARD_REDIS_HOST="127.0.0.1", ONECARD_REDIS_PORT=str(stack.redis_port),
             ONECARD_PG_DSN=stack.pg_dsn, ONECARD_ADMIN_PORT=str(stack.admin_port(service)))
    if service == "gateway":
        e["ONECARD_HTTP_PORT"] = str(stack.gateway_port)
    if service == "eligibility":
        e["ONECARD_OPERATOR_PORT"] = str(stack.operator_port)
    return e


def test_commands_beside_their_daemons(stack):
    for service in ("ledger", "settlement", "rating", "eligibility"):
        assert port_open(stack.admin_port(service)), service  # the daemon runs
    led = run("onecard-ledger", ["reconcile", "--card-prefix", "999999", "--format", "json"],
              env=daemon_env(stack, "ledger"))
    assert led.returncode == 0, led.stdout + led.stderr
    rep = json.loads(led.stdout)
    assert rep["ok"] is True and rep["differences"] == 0, rep
    assert {c["check"] for c in rep["checks"]} >= {"journal", "offsets", "cards", "holds"}, rep
    text = run("onecard-ledger", ["reconcile", "--card-prefix", "999999"],
               env=daemon_env(stack, "ledger"))
    assert text.returncode == 0 and "reconcile: OK" in text.stdout, text.stdout + text.stderr

    st = run("onecard-settlement", ["report", "--period", "2026-01", "--format", "json"],
             env=daemon_env(stack, "settlement"))
    assert st.returncode == 0, st.stderr
    assert json.loads(st.stdout)["period"] == "2026-01"

    rt = run("onecard-rating", ["review", "--year", "2025", "--format", "json"],
             env=daemon_env(stack, "rating"))
    assert rt.returncode == 0, rt.stderr
    json.loads(rt.stdout)

    el = run("onecard-eligibility", ["person", "show", "0" * 64],
             env=daemon_env(stack, "eligibility"))
    assert el.returncode == 1, el.stdout + el.stderr  # refused: no such person
    assert "address" not in el.stderr.lower(), el.stderr
    # the daemons are still there
    for service in ("ledger", "settlement", "rating", "eligibility"):
        assert port_open(stack.admin_port(service)), service


def test_close_format_json(stack):
    # a day long past that nothing was posted in: closed, nothing to pay
    r = run("onecard-settlement", ["close", "--period", "2020-01-01", "--format", "json",
                                   "--wait", "30"],
            env=daemon_env(stack, "settlement"), timeout=180)
    rep = json.loads(r.stdout)
    assert rep["period"] == "2020-01-01" and rep["exit"] == r.returncode, rep
    assert r.returncode == 0 and rep["outcome"] == "closed", (rep, r.stderr)
    assert any("done" in x for x in rep["lines"]), rep


@pytest.mark.parametrize("binary,args", [
    ("onecard-ledger", ["reconcile", "--retries", "1"]),
    ("onecard-ledger", ["allocate", "--fund", "central", "--year", "2026", "--amount-fen", "1",
                        "--ref", "unreachable"]),
    ("onecard-settlement", ["report", "--period", "2026-01", "--format", "json"]),
    ("onecard-settlement", ["close", "--period", "2020-01-01"]),
    ("onecard-rating", ["review", "--year", "2025"]),
    ("onecard-eligibility", ["person", "show", "0" * 64]),
])
def test_unreachable_postgres_is_exit_3(stack, binary, args):
    service = binary.split("-", 1)[1]
    e = daemon_env(stack, service)
    e["ONECARD_PG_DSN"] = "host=127.0.0.1 port=%d dbname=onecard user=onecard " \
        "connect_timeout=1" % free_port()
    r = run(binary, args, env=e)
    assert r.returncode == 3, (r.returncode, r.stdout, r.stderr)


@pytest.mark.parametrize("binary,secret", [
    ("onecard-gateway", "ONECARD_PIN_PEPPER"),
    ("onecard-eligibility", "ONECARD_ID_SALT"),
])
def test_site_refuses_public_default_secrets(binary, secret):
    admin = free_port()
    e = closed_env(admin)
    e["ONECARD_DEPLOYMENT"] = "site"
    for k in ("ONECARD_PIN_PEPPER", "ONECARD_ID_SALT"):
        e.pop(k, None)
    for args in ([], ["serve"]):
        r = run(binary, args, env=e, timeout=5)
        assert r.returncode == 2 and secret in r.stderr, (r.returncode, r.stderr)
        assert port_bindable(admin)
    e[secret] = "onecard-local-pepper" if secret == "ONECARD_PIN_PEPPER" \
        else "onecard-local-id-salt"
    r = run(binary, [], env=e, timeout=5)
    assert r.returncode == 2 and secret in r.stderr, r.stderr
    if binary == "onecard-eligibility":  # a command is refused the same way
        e.pop(secret)
        r = run(binary, ["person", "show", "0" * 64], env=e, timeout=5)
        assert r.returncode == 2 and secret in r.stderr, r.stderr
