"""The unit tier under ``make mutants``: quickest tests first.

mutmut runs each mutant's tests with ``-x``, so the first failure ends the run; in
file order a mutant that only a late test kills first waits for every test before
it.  mutmut measured each test's duration when it collected its stats
(``mutmut-stats.json`` in its working directory), so the tests are run in that
order.  Nothing changes outside a mutant's run.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

#: The names mutmut runs under while it measures the tests rather than a mutant.
NOT_A_MUTANT = ("", "stats", "list_all_tests", "fail", "mutant_generation")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MUTANT_UNDER_TEST", "") in NOT_A_MUTANT:
        return
    try:
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, math.inf))
