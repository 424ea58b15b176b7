"""Every bad input the issue found, through the real command line: one clear line, a non-zero exit, no traceback.

``run`` and ``controller`` are only given arguments that must be refused before
anything starts (a scenario that does not load, a bad number).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from openisp.cli import main

MALFORMED = Path("tests/unit/topologies/malformed")
ZOO = "tests/unit/topologies/fixtures/tiny_zoo.graphml"


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals: usage and one line, exit 2
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("argv, words", [
    (["show", "topologies/default.yaml", "-o", "{tmp}/x.xyz"], "the suffix must be one of"),
    (["show", "topologies/default.yaml", "-o", "{tmp}/missing/dir/x.png"], "no directory"),
    (["show", "topologies/default.yaml", "-o", "{tmp}"], "the suffix must be one of"),
    (["show", "topologies/default.yaml", "-o", "{tmp}/x.pgf"], "the suffix must be one of"),
    (["show", "{tmp}/nope.yaml", "-o", "{tmp}/x.png"], "cannot read file"),
    (["generate", "--last-mile-switches", "0"], "--last-mile-switches must be between 1 and 99, got 0"),
    (["generate", "-o", "{tmp}"], "it is a directory"),
    (["generate", "-o", "{tmp}/missing/x.yaml"], "no directory"),
    (["generate", "--zoo", ZOO, "--last-miles", "600"], "--last-miles must be between 1 and 512"),
    (["generate", "--zoo", "{tmp}/nope.graphml"], "cannot read"),
    (["generate", "--zoo", "topologies/default.yaml"], "cannot read"),
    (["generate", "--last-miles", "500", "--direct", "1"], "direct links; at most"),
    (["generate", "--content", "0", "--last-miles", "1", "--hosts", "1"], "demands need at least two hosts"),
    (["generate", "--name", "../../etc"], "--name: expected a name"),
    (["check", "{tmp}"], "cannot read file"),
    (["auction", str(MALFORMED / "alias-bomb.yaml")], "alias bomb"),
    (["controller", "{tmp}/nope.yaml"], "cannot read file"),
    (["controller", str(MALFORMED / "money-1e30.yaml")], "expected an amount"),
    (["run", "{tmp}/nope.yaml"], ""),  # as root: the file; as anyone else: root first
    (["run", "topologies/default.yaml", "--seconds", "0"], ""),
    (["compare", "{tmp}/nope.yaml"], "cannot read file"),
    (["compare", "topologies/default.yaml", "--plans", "market,cheapest"], "unknown plan cheapest"),
    (["compare", "topologies/default.yaml", "--plans", ","], "unknown plan (none given)"),
    (["compare", "topologies/default.yaml", "--plans", "market,market"], "a plan is named twice"),
    (["compare", "topologies/default.yaml", "--seconds", "61"], "--seconds must be between 1 and 60"),
    (["compare", "topologies/default.yaml", "--timeout", "0"], "--timeout must be more than 0"),
    (["compare", "topologies/default.yaml", "--png", "{tmp}/x.xyz"], "cannot write a .xyz picture"),
    (["compare", "topologies/default.yaml", "--png", "{tmp}/missing/x.png"], "no directory"),
])
def test_bad_input_is_one_clear_problem(argv, words, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run_cli(argv, capsys)
    assert code == 1 and words in err and err.strip(), err
    assert not any(tmp_path.glob("*.png")) and not any(tmp_path.glob("*.yaml"))


@pytest.mark.parametrize("argv", [
    ["run", "topologies/default.yaml", "--timeout", "nan"],
    ["controller", "topologies/default.yaml", "--epoch", "inf"],
    ["generate", "--direct", "nan"],
    ["generate", "--backbones", "9" * 5000],
    ["show", "topologies/default.yaml"],
    ["check"],
    ["frobnicate"],
])
def test_argument_errors_are_argparse_usage_lines(argv, capsys):
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and "error:" in err


def test_a_demand_no_offered_path_serves_is_a_warning_of_check_and_a_note_of_auction(capsys):
    path = str(MALFORMED / "unservable-demand.yaml")
    code, out, err = run_cli(["check", path], capsys)
    assert code == 0 and "ok" in out and f"{path}:21: demands[0]: warning: demand d1" in err
    assert run_cli(["check", "--strict", path], capsys)[0] == 1
    code, out, err = run_cli(["auction", path], capsys)
    assert code == 0 and "note: demand d1 (x on a -> z on c) can never be served: no path of offered links" in out
    code, out, err = run_cli(["auction", path, "--json"], capsys)
    assert any("d1" in n and "never be served" in n for n in json.loads(out)["notes"])
    code, out, err = run_cli(["auction", "topologies/default.yaml"], capsys)
    assert "never be served" not in out


def test_a_scenario_without_demands_has_nothing_to_clear(capsys):
    code, out, err = run_cli(["auction", str(MALFORMED / "merge-key.yaml")], capsys)
    assert code == 0 and "no demands, so there is nothing to clear" in out


def test_show_writes_every_format_it_offers(tmp_path, capsys):
    for suffix in ("png", "svg", "pdf"):
        out = tmp_path / f"x.{suffix}"
        assert run_cli(["show", str(MALFORMED / "merge-key.yaml"), "-o", str(out)], capsys)[0] == 0
        assert out.stat().st_size > 1000
