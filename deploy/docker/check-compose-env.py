#!/usr/bin/python3
"""check-compose-env: every environment variable docker-compose.yml sets
for a onecard service is one that service's binary reads, and the compose
file runs as drawn (issue 18 item 4).

    check-compose-env.py BUILD_DIR [COMPOSE_FILE [ENV_FILE]]

The resolved file comes from `docker compose config` (or docker-compose)
with ENV_FILE (deploy/docker/site.env.example): a service is a onecard one
when its image is onecard/NAME; its binary's config table comes from
`BUILD_DIR/bin/onecard-X --print-config-names`. Besides the table, only
libpq's own PGPASSWORD is allowed (it keeps the password out of the DSN).
Checked as well, for each onecard service: ONECARD_DEPLOYMENT is site; the
admin address (and the gateway's HTTP and eligibility's operator address)
is 0.0.0.0; no fixed consumer-group instance id (it must stay
<service>-{host} so replicas differ). Exit 0, or 1 listing every problem.
"""
import os
import shutil
import subprocess
import sys

import yaml

ALLOWED = {"PGPASSWORD"}  # read by libpq, not by the config table
BINARY = {"card-gateway": "onecard-gateway"}
ANY_ADDR = {"ONECARD_ADMIN_ADDR": "all", "ONECARD_HTTP_ADDR": "onecard-gateway",
            "ONECARD_OPERATOR_ADDR": "onecard-eligibility"}


def compose_config(compose, env_file):
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0 \
            if shutil.which("docker") else False:
        cmd = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        cmd = ["docker-compose"]
    else:
        sys.exit("check-compose-env: neither docker compose nor docker-compose is installed")
    r = subprocess.run(cmd + ["--env-file", env_file, "-f", compose, "config"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("check-compose-env: compose config failed:\n" + r.stderr)
    return yaml.safe_load(r.stdout)


def main():
    build = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    compose = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "docker-compose.yml")
    env_file = sys.argv[3] if len(sys.argv) > 3 else \
        os.path.join(root, "deploy", "docker", "site.env.example")
    cfg = compose_config(compose, env_file)
    problems, checked = [], 0
    for name, svc in sorted(cfg.get("services", {}).items()):
        image = svc.get("image", "")
        if not image.startswith("onecard/"):
            continue
        binary = BINARY.get(name, "onecard-" + name)
        r = subprocess.run([os.path.join(build, "bin", binary), "--print-config-names"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            problems.append("%s: %s --print-config-names failed: %s" % (name, binary, r.stderr))
            continue
        known = set(r.stdout.split())
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(x.split("=", 1) for x in env)
        for var in sorted(env):
            if var not in known and var not in ALLOWED:
                problems.append("%s: %s is not in %s's config table" % (name, var, binary))
        if env.get("ONECARD_DEPLOYMENT") != "site":
            problems.append("%s: ONECARD_DEPLOYMENT is %r, not site"
                            % (name, env.get("ONECARD_DEPLOYMENT")))
        for var, who in ANY_ADDR.items():
            if (who == "all" or who == binary) and env.get(var) != "0.0.0.0":
                problems.append("%s: %s is %r, not 0.0.0.0 (unreachable from other containers)"
                                % (name, var, env.get(var)))
        for var in env:
            if var.endswith("_INSTANCE") and "{host}" not in str(env[var]):
                problems.append("%s: %s=%r is one id for every replica (leave it unset: "
                                "<service>-{host})" % (name, var, env[var]))
        checked += 1
    if checked == 0:
        problems.append("no onecard/* service found in %s" % compose)
    for p in problems:
        print("check-compose-env: " + p)
    if problems:
        sys.exit(1)
    print("check-compose-env: %d onecard services, every variable known to its binary: ok"
          % checked)


if __name__ == "__main__":
    main()
