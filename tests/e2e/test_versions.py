"""Catalogue versions in force by date against the real stack (issue 15,
item 2; seeds 003/004: a subsidy standard adjusted mid-year, from a date).

The repository's catalogue is version 1. A person with the top care
subsidy (grade 1, care level 3: 1010 yuan a month) is issued this month;
version 2 raises that figure to 1200 yuan from the 15th of next month. Next
month's grant is then prorated old/new to the fen; re-issuing this month
still gives version 1's figures; `catalogue diff` names the change; a
version dated into an issued month is refused, nothing written, unless
loaded as a correction, whose arrears are corrections that reach the ledger
(reconcile OK).

Months: this month and next (issuance goes no further ahead), so the tests
of the other files, which issue this month and 2026-11, never see a
version of their own months change.
"""
import calendar
import datetime
import re

from test_eligibility import el, person  # noqa: F401 (the fixture)
from test_eligibility import (CATALOGUE, catalogue_funds, catalogue_items, elig, ledger,
                              reconciled, wait_for)

LOCAL = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
P1 = LOCAL.strftime("%Y-%m")
NEXT = (LOCAL.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
P2 = NEXT.strftime("%Y-%m")
DIM = calendar.monthrange(NEXT.year, NEXT.month)[1]
TOP = "care\tgrade=1;care=3\t101000"


def version_of(out):
    m = re.search(r"version (\d+) effective (\S+) \(([^)]*)\)", out)
    assert m, out
    return int(m.group(1)), m.group(2), m.group(3)


def issued(stack, pid, item, period):
    """What the person was granted for the item and period: the issuance
    and its corrections."""
    return int(stack.psql(
        "SELECT coalesce((SELECT amount_fen FROM elig_issuances WHERE person_id = '%s' AND "
        "item_code = '%s' AND period = '%s'), 0) + coalesce((SELECT sum(amount_fen) FROM "
        "elig_issuance_corrections WHERE person_id = '%s' AND item_code = '%s' AND period = "
        "'%s'), 0)" % (pid, item, period, pid, item, period)))


def paid(stack, pid, item, period):
    """What the ledger paid the person for the item and period (cash item:
    payments into the person's own account, the issuance and arrears)."""
    return int(stack.psql(
        "SELECT coalesce(sum(e.amount_fen), 0) FROM ledger_entries e WHERE e.kind = 'payment' "
        "AND e.request_id IN (SELECT topup_id FROM elig_issuances WHERE person_id = '%s' AND "
        "item_code = '%s' AND period = '%s' UNION ALL SELECT topup_id FROM "
        "elig_issuance_corrections WHERE person_id = '%s' AND item_code = '%s' AND period = "
        "'%s')" % (pid, item, period, pid, item, period)))


def test_a_standard_raised_mid_month_is_prorated_and_a_past_month_keeps_its_version(el, tmp_path):
    stack = el["stack"]
    r = elig(stack, "catalogue", "load", CATALOGUE, "--actor", "test")
    v1, _, state = version_of(r.stdout)
    assert "already loaded" in state and "in force today" in state, r.stdout
    # next month's year gets its budgets too (December: next year)
    for fund in catalogue_funds():
        ledger(stack, "allocate", "--fund", fund, "--year", str(NEXT.year), "--amount-fen",
               "100000000000", "--ref", "e2e-v-f-%s-%s-%d" % (el["run"], fund, NEXT.year))
    for prog in {it["programme"] for it in catalogue_items()}:
        ledger(stack, "allocate", "--programme", prog, "--year", str(NEXT.year), "--amount-fen",
               "10000000000", "--ref", "e2e-v-p-%s-%s-%d" % (el["run"], prog, NEXT.year))

    _, pid, card = person(el, category="limb", grade=1, care=3)
    elig(stack, "issue", "--period", P1, "--actor", "test")
    assert issued(stack, pid, "S01-CARE", P1) == 101000

    # version 2: the top care figure 1010 → 1200 yuan from the 15th of next month
    with open(CATALOGUE, encoding="utf-8") as f:
        text = f.read()
    assert TOP in text
    v2file = tmp_path / "catalogue-v2.tsv"
    v2file.write_text(text.replace(TOP, "care\tgrade=1;care=3\t120000").replace(
        "# version: 2026.1", "# version: 2026.2"), encoding="utf-8")
    eff2 = NEXT.replace(day=15).isoformat()
    audit = stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_catalogue_items'")
    r = elig(stack, "catalogue", "load", str(v2file), "--effective", eff2, "--actor", "test")
    v2, eff, state = version_of(r.stdout)
    assert v2 > v1 and eff == eff2 and state == "new", r.stdout
    assert "39 items, 0 changed" in r.stdout, r.stdout  # not in force today: nothing projected
    assert stack.psql("SELECT count(*) FROM elig_audit WHERE tbl = 'elig_catalogue_items'") == \
        audit
    # the same file and date again: the same version, no new row
    nversions = stack.psql("SELECT count(*) FROM elig_catalogue_versions")
    r = elig(stack, "catalogue", "load", str(v2file), "--effective", eff2, "--actor", "test")
    assert version_of(r.stdout) == (v2, eff2, "already loaded"), r.stdout
    assert stack.psql("SELECT count(*) FROM elig_catalogue_versions") == nversions
    # a new file without a date is refused
    undated = tmp_path / "undated.tsv"
    undated.write_text(text.replace("# version: 2026.1", "# version: 2026.x"), encoding="utf-8")
    r = elig(stack, "catalogue", "load", str(undated), "--actor", "test", check=False)
    assert r.returncode == 1 and "needs --effective YYYY-MM-DD" in r.stderr, r.stderr
    assert stack.psql("SELECT count(*) FROM elig_catalogue_versions") == nversions

    # what the versions are, what is in force when, and what changed
    r = elig(stack, "catalogue", "versions")
    assert re.search(r"^%d\s+%s .* 39 $" % (v2, eff2), r.stdout, re.M), r.stdout
    assert re.search(r"^%d\s+.* 39 in force today" % v1, r.stdout, re.M), r.stdout
    r = elig(stack, "catalogue", "show", "--at", NEXT.replace(day=14).isoformat())
    assert "version %d (2026.1)" % v1 in r.stdout and "until %s" % eff2 in r.stdout, r.stdout
    r = elig(stack, "catalogue", "show", "--at", eff2)
    assert "version %d (2026.2), in force from %s;" % (v2, eff2) in r.stdout, r.stdout
    assert re.search(r"^tier care\s+grade=1;care=3\s+120000$", r.stdout, re.M), r.stdout
    r = elig(stack, "catalogue", "diff", str(v1), str(v2))
    assert "~ care grade=1;care=3 value: 101000 → 120000" in r.stdout, r.stdout
    assert "0 added, 0 removed, 1 fields changed" in r.stdout, r.stdout
    r = elig(stack, "catalogue", "diff", str(v1), "999999", check=False)
    assert r.returncode == 1 and "no catalogue version" in r.stderr, r.stderr

    # next month: 14 days at 1010 yuan, the rest at 1200, one rounding down
    elig(stack, "issue", "--period", P2, "--actor", "test")
    want2 = (101000 * 14 + 120000 * (DIM - 14)) // DIM
    assert issued(stack, pid, "S01-CARE", P2) == want2
    wait_for(lambda: paid(stack, pid, "S01-CARE", P2) == want2, 60, "the ledger to pay it")
    # this month again: version 1's figures, nothing to correct
    r = elig(stack, "issue", "--period", P1, "--actor", "test")
    assert " 0 new" in r.stdout and "corrections" not in r.stdout, r.stdout
    assert issued(stack, pid, "S01-CARE", P1) == 101000
    assert stack.psql("SELECT count(*) FROM elig_issuance_corrections WHERE person_id = '%s'"
                      % pid) == "0"

    # version 3, 1300 yuan from the 20th of next month, now issued: refused,
    # nothing written
    v3file = tmp_path / "catalogue-v3.tsv"
    v3file.write_text(text.replace(TOP, "care\tgrade=1;care=3\t130000").replace(
        "# version: 2026.1", "# version: 2026.3"), encoding="utf-8")
    eff3 = NEXT.replace(day=20).isoformat()
    before = (stack.psql("SELECT count(*) FROM elig_catalogue_versions"),
              stack.psql("SELECT count(*) FROM elig_catalogue_version_items"),
              stack.psql("SELECT count(*) FROM elig_issuance_corrections"))
    r = elig(stack, "catalogue", "load", str(v3file), "--effective", eff3, "--actor", "test",
             check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "effective %s falls in periods already issued (%s" % (eff3, P2) in r.stderr, r.stderr
    assert "--correction yes" in r.stderr and "已发放" in r.stderr, r.stderr
    assert (stack.psql("SELECT count(*) FROM elig_catalogue_versions"),
            stack.psql("SELECT count(*) FROM elig_catalogue_version_items"),
            stack.psql("SELECT count(*) FROM elig_issuance_corrections")) == before
    assert issued(stack, pid, "S01-CARE", P2) == want2

    # as a correction: loaded, next month issued again, the arrears published
    r = elig(stack, "catalogue", "load", str(v3file), "--effective", eff3, "--correction", "yes",
             "--actor", "test")
    v3, _, state = version_of(r.stdout)
    assert v3 > v2 and state == "new", r.stdout
    assert "correction of %s under version %d" % (P2, v3) in r.stdout, r.stdout
    assert "arrears" in r.stdout, r.stdout
    want3 = (101000 * 14 + 120000 * 5 + 130000 * (DIM - 19)) // DIM
    assert want3 > want2
    assert issued(stack, pid, "S01-CARE", P2) == want3
    assert stack.psql("SELECT amount_fen FROM elig_issuance_corrections WHERE person_id = '%s' "
                      "AND item_code = 'S01-CARE' AND period = '%s'" % (pid, P2)) == \
        str(want3 - want2)
    assert stack.psql("SELECT correction FROM elig_catalogue_versions WHERE version_id = %d"
                      % v3) == "t"
    wait_for(lambda: paid(stack, pid, "S01-CARE", P2) == want3, 60, "the ledger to pay arrears")
    wait_for(lambda: reconciled(stack, card), 30, "reconcile")
    # this month is still version 1's; loading the correction again adds nothing
    r = elig(stack, "issue", "--period", P1, "--actor", "test")
    assert "corrections" not in r.stdout and issued(stack, pid, "S01-CARE", P1) == 101000
    r = elig(stack, "catalogue", "load", str(v3file), "--effective", eff3, "--correction", "yes",
             "--actor", "test")
    assert version_of(r.stdout) == (v3, eff3, "already loaded"), r.stdout
    assert "correction of" not in r.stdout, r.stdout
