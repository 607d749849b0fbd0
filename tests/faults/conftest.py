"""The fault matrix runs on the end-to-end fixtures (tests/e2e/conftest.py):
the same real stack, started by the project's own script in a temporary
folder. It runs in a pytest session of its own (`./onecard test` runs it
after tests/e2e), so its stack starts clean and the two never share ports.
"""
import os
import sys

_E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")
sys.path.insert(0, _E2E)
with open(os.path.join(_E2E, "conftest.py")) as _f:
    exec(compile(_f.read(), os.path.join(_E2E, "conftest.py"), "exec"))
