#!/bin/sh
# migrate.sh: apply deploy/sql/NNNN_*.sql to PostgreSQL, each file once, in
# order, and record it in schema_migrations.
#
# Why one psql session: it holds an advisory lock for the whole run, so two
# migrators started at once (two compose projects, a re-run during a rollout)
# apply each file exactly once; every file runs in its own transaction
# together with its schema_migrations row, so a failing file leaves neither
# its changes nor its row behind, and the next run retries it.
#
# Rules for migration files, which follow from that: never edit a file once
# it is applied (add a new NNNN instead); no BEGIN/COMMIT of their own and
# nothing that refuses to run in a transaction (CREATE INDEX CONCURRENTLY).
#
# Connection: the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE) or ONECARD_PG_DSN, a libpq conninfo string.
# Usage: migrate.sh [DIR]   (DIR defaults to $MIGRATIONS_DIR or /migrations)
# Exits 0 when everything is applied, non-zero on the first failure.
set -eu
# Sort the glob bytewise (fixed-width NNNN prefixes: numeric order); the files
# are UTF-8 whatever the container's locale says.
LC_ALL=C
PGCLIENTENCODING=UTF8
export LC_ALL PGCLIENTENCODING

dir=${1:-${MIGRATIONS_DIR:-/migrations}}
lock_key=7146025313  # arbitrary, constant: "onecard schema migrations"

if [ ! -d "$dir" ]; then
    echo "migrate: no such directory: $dir" >&2
    exit 2
fi

plan=$(mktemp)
trap 'rm -f "$plan"' EXIT INT TERM

cat >"$plan" <<SQL
\\set ON_ERROR_STOP on
\\set QUIET on
SET client_min_messages = warning;
SELECT pg_advisory_lock($lock_key) AS locked \\gset
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
SQL

count=0
for f in "$dir"/[0-9][0-9][0-9][0-9]_*.sql; do
    [ -e "$f" ] || continue  # the glob matched nothing
    version=$(basename "$f" .sql)
    case $version in
        *[!A-Za-z0-9_.-]*)
            echo "migrate: refusing file name with unexpected characters: $f" >&2
            exit 2 ;;
    esac
    case $f in
        *\'*|*\\*)
            echo "migrate: refusing path with a quote or backslash: $f" >&2
            exit 2 ;;
    esac
    count=$((count + 1))
    cat >>"$plan" <<SQL
SELECT NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = '$version') AS pending \\gset
\\if :pending
\\echo 'migrate: applying $version'
BEGIN;
\\i '$f'
INSERT INTO schema_migrations (version) VALUES ('$version');
COMMIT;
\\else
\\echo 'migrate: already applied $version'
\\endif
SQL
done

cat >>"$plan" <<SQL
SELECT pg_advisory_unlock($lock_key) AS unlocked \\gset
SQL

if [ "$count" -eq 0 ]; then
    echo "migrate: no NNNN_*.sql files in $dir; only schema_migrations ensured" >&2
fi

if [ -n "${ONECARD_PG_DSN:-}" ]; then
    psql --no-psqlrc -X -d "$ONECARD_PG_DSN" -f "$plan"
else
    psql --no-psqlrc -X -f "$plan"
fi
echo "migrate: done ($count file(s) checked)"
