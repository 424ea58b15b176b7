"""The mutation score of `make mutants` (scripts/mutant_score.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("mutant_score", Path(__file__).parents[2] / "scripts" / "mutant_score.py")
mutant_score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutant_score)

RESULTS = """\
    controller.market.payments.x_split__mutmut_1: killed
    controller.market.payments.x_split__mutmut_2: survived
    controller.market.pathlp.xǁPathLPǁsolve__mutmut_3: not checked
    controller.market.pathlp.xǁPathLPǁsolve__mutmut_4: timeout
    controller.cookies.x_make__mutmut_1: killed
    controller.ops.x_transition_ops__mutmut_20: survived
    controller.core.xǁControllerCoreǁtick__mutmut_1: killed
    topologies.loader.x_load__mutmut_1: no tests
    dataplane.other.x_f__mutmut_1: killed
"""


def test_every_status_but_killed_counts_against_its_package():
    counts = mutant_score.score(mutant_score.parse(RESULTS.splitlines()))
    assert counts["market"] == {"killed": 1, "survived": 1, "not checked": 1, "timeout": 1}
    assert counts["core"] == {"killed": 1, "survived": 1} and counts["cookies"] == {"killed": 1}
    assert counts["loader"] == {"no tests": 1} and sum(counts["pathing"].values()) == 0


def test_modules_are_cut_at_their_function(tmp_path, capsys):
    modules = mutant_score.by_module(mutant_score.parse(RESULTS.splitlines()))
    assert list(modules) == ["controller.cookies", "controller.core", "controller.market.pathlp",
                             "controller.market.payments", "controller.ops", "topologies.loader"]
    assert modules["controller.market.pathlp"] == {"not checked": 1, "timeout": 1}
    path = tmp_path / "results.txt"
    path.write_text(RESULTS, encoding="utf-8")
    assert mutant_score.main(str(path), modules=True) == 1  # below 90% somewhere
    out = capsys.readouterr().out
    assert "controller.market.payments" in out and "50.0%" in out
    assert "below the goal of 90%: market, pathing, rule plan, reconcile, core, loader" in out  # unmeasured: 0%
    path.write_text("    controller.cookies.x_make__mutmut_1: killed\n", encoding="utf-8")
    mutant_score.PACKAGES, saved = {"cookies": ("controller.cookies.",)}, mutant_score.PACKAGES
    try:
        assert mutant_score.main(str(path)) == 0
    finally:
        mutant_score.PACKAGES = saved
