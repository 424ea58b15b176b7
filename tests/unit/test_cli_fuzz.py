"""The command line fuzzed in-process: any arguments end as an exit code, never a traceback.

Arguments are drawn from each command's own options (read from the parser)
and a pool of awkward values.  ``run``, ``compare`` and ``controller`` only ever get a
scenario that cannot load, so they refuse before anything starts; ``doctor``
(which probes the machine) and commands other engineers add later are only
fuzzed at the argument parser.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from openisp.cli import COMMANDS, build_parser, main
from topologies.errors import ScenarioError
from topologies.loader import load_scenario

PROFILE = settings(max_examples=1000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 60, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HERE = Path(__file__).resolve().parent
#: Every file a command may read or write is a copy in the test's scratch directory (which is also the
#: working directory): whatever the fuzzer makes of ``-o``, nothing of the project is overwritten.
INPUTS = {"default.yaml": HERE.parent.parent / "topologies" / "default.yaml",
          **{f: HERE / "topologies" / "malformed" / f for f in ("merge-key.yaml", "unservable-demand.yaml",
                                                                 "alias-bomb.yaml", "money-1e30.yaml",
                                                                 "two-documents.yaml")},
          "tiny_zoo.graphml": HERE / "topologies" / "fixtures" / "tiny_zoo.graphml"}
BROKEN = ["{tmp}/missing.yaml", "{tmp}", "{tmp}/alias-bomb.yaml", "{tmp}/money-1e30.yaml", "{tmp}/two-documents.yaml",
          "/dev/null", ""]
GOOD = ["{tmp}/default.yaml", "{tmp}/merge-key.yaml", "{tmp}/unservable-demand.yaml"]
VALUES = ["0", "1", "2", "-1", "3", "99999999999999999999", "nan", "inf", "-inf", "1e999", "0.5", "1.0", "x", "",
          "-", "--", "vcg", "all", "market", "shortest", "ümlaut", "{tmp}/out.png", "{tmp}/out.yaml",
          "{tmp}/out.xyz", "{tmp}/missing/out.png", "{tmp}/tiny_zoo.graphml", *BROKEN]
#: Commands run for real on fuzzed arguments; the others are fuzzed at the parser only.
RUN = {"check", "show", "generate", "auction", "controller", "run", "compare"}
SAFE_POSITIONAL = {"check": BROKEN + GOOD, "show": BROKEN + GOOD[1:], "auction": BROKEN + GOOD,
                   "controller": BROKEN, "run": BROKEN, "compare": BROKEN}


def options(command: str) -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return [s for a in sub._actions for s in a.option_strings if s not in ("-h", "--help")]


@st.composite
def argv(draw, command: str) -> list[str]:
    args = [command]
    if command in SAFE_POSITIONAL:
        args += draw(st.lists(st.sampled_from(SAFE_POSITIONAL[command]), min_size=0, max_size=2))
    for _ in range(draw(st.integers(0, 4))):
        args.append(draw(st.sampled_from(options(command) or ["--bogus"])))
        if draw(st.booleans()):
            args.append(draw(st.sampled_from(VALUES)))
    return args


def loads(path: str) -> bool:
    try:
        load_scenario(path)
    except (ScenarioError, ValueError):
        return False
    return True


def call(args: list[str], tmp_path) -> int:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert all(str(tmp_path) in str(Path(a).resolve()) or not Path(a).exists() or a in ("/dev/null", "", "-", "--")
               for a in args[1:] if not a.startswith("-")), args  # the fuzzer only ever touches its scratch files
    if args[0] in ("run", "controller", "compare"):
        args.insert(1, str(tmp_path / "missing.yaml"))
        assert not any(loads(a) for a in args[1:]), ("never a scenario that loads: it would start for real", args)
    if args[0] == "generate":  # keep generated worlds small: the limits have their own tests
        args = [a if not a.isdigit() or len(a) > 6 or int(a) <= 3 else "3" for a in args]
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("command", sorted(RUN))
def test_any_arguments_end_as_an_exit_code_without_a_traceback(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, source in INPUTS.items():
        (tmp_path / name).write_bytes(source.read_bytes())

    @PROFILE
    @given(argv(command))
    def fuzz(args):
        code = call(args, tmp_path)
        out, err = capsys.readouterr()
        assert code in (0, 1, 2), (args, code)
        assert "Traceback" not in out + err, args

    fuzz()


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - RUN))
def test_other_commands_refuse_bad_options_at_the_parser(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--no-such-option", "nan"])
    assert info.value.code == 2 and "Traceback" not in capsys.readouterr().err
