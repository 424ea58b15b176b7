"""The unit tier under ``make mutants``: quickest tests first.

mutmut runs each mutant's tests with ``-x``, so the first failure ends the run; in
file order a mutant that only a late test kills first waits for every test before
it.  mutmut measured each test's duration when it collected its stats
(``mutmut-stats.json`` in its working directory), so the tests are run in that
order.  The Dask cluster test, whose cluster takes tens of seconds to start under
mutmut, runs only for the mutants of the module it alone covers
(``controller/market/distributed.py``); every other module's code is run in process by
the rest of the tier.  The loader's and the market's mutants run their own package's tests (:data:`OWN_TESTS`).
Nothing changes outside a mutant's run.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

#: mutmut's copy of the tree (``.mutants/mutants``) leaves out ``scripts/``, and with it
#: the scorer that test checks.
collect_ignore = [] if (Path(__file__).parents[2] / "scripts" / "mutant_score.py").exists() else ["test_mutant_score.py"]

#: The names mutmut runs under while it measures the tests rather than a mutant.
NOT_A_MUTANT = ("", "stats", "list_all_tests", "fail", "mutant_generation")


#: tests run only for the mutants of the module named
ONLY_FOR = {"tests/unit/market/test_distributed.py::test_a_local_dask_cluster_pays_what_this_process_pays":
            "controller.market.distributed."}

#: the mutants of a package tested by its own tests only: nearly every unit test loads a
#: scenario (435 tests, 54 s, reach the loader) and clears a market, and a surviving
#: mutant would run them all.  The score so measured is a lower bound of the whole tier's.
OWN_TESTS = {"topologies.loader.": ("tests/unit/topologies/", "tests/unit/test_cli_check.py",
                                     "tests/unit/test_cli_errors.py"),
             "controller.market.": ("tests/unit/market/",)}


def pytest_collection_modifyitems(config, items):
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if mutant in NOT_A_MUTANT:
        return
    items[:] = [item for item in items if item.nodeid not in ONLY_FOR or mutant.startswith(ONLY_FOR[item.nodeid])]
    for module, tests in OWN_TESTS.items():
        if mutant.startswith(module):
            items[:] = [item for item in items if item.nodeid.startswith(tests)]
    try:
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, math.inf))
