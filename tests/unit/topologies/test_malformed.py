"""The malformed files of issue 11, one fixture each: every problem exactly where it is, nothing more.

Each file in ``malformed/`` says what it expects in comments:
``# expect: LINE: PATH: words`` (one per problem, in order), or ``# expect: ok``
and then ``# warn: LINE: PATH: words`` for each warning.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from openisp.cli import main
from topologies.errors import ScenarioError
from topologies.loader import load_checked

FIXTURES = sorted(Path(__file__).parent.joinpath("malformed").glob("*.yaml"))
#: Files that would take the machine down if the reader's guards broke: read in a memory-limited subprocess.
BOMBS = {"alias-bomb"}
LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from openisp.cli import main
sys.exit(main(["check", *sys.argv[1:]]))
"""
EXPECT = re.compile(r"^# (expect|warn): (\d+): ([^:]*): (.*)$")


def expectations(path: Path) -> tuple[bool, list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    ok = "# expect: ok" in lines
    found: dict[str, list] = {"expect": [], "warn": []}
    for line in lines:
        m = EXPECT.match(line)
        if m:
            found[m.group(1)].append((int(m.group(2)), m.group(3), m.group(4)))
    return ok, found["expect"], found["warn"]


def matches(problems, expected) -> bool:
    return len(problems) == len(expected) and all(
        p.line == line and p.path == path and words in p.message for p, (line, path, words) in zip(problems, expected))


def test_there_is_a_fixture_for_every_case_of_the_issue():
    names = {p.stem for p in FIXTURES}
    assert {"merge-key", "custom-tag", "complex-key", "recursive-alias", "timeline-list-for-scalar", "alias-bomb",
            "infinite-latency", "money-1e30", "no-hosts", "market-list", "name-null", "non-ascii-names",
            "long-interface-name", "unservable-demand", "dpid-cascade"} <= names


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.stem not in BOMBS], ids=lambda p: p.stem)
def test_each_malformed_file_gets_exactly_its_problems(path):
    ok, expected, warnings = expectations(path)
    assert ok or expected, f"{path.name} says nothing about what it expects"
    if ok:
        scenario, found = load_checked(path)
        assert matches(found, warnings), [str(w) for w in found]
        return
    with pytest.raises(ScenarioError) as info:
        load_checked(path)
    problems = info.value.problems
    assert all(p.file == str(path) for p in problems)
    assert matches(problems, expected), [str(p) for p in problems]


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.stem in BOMBS], ids=lambda p: p.stem)
def test_a_bomb_is_one_problem_in_a_process_limited_to_2_gb(path):
    ok, expected, warnings = expectations(path)
    done = subprocess.run([sys.executable, "-c", LIMITED, str(path)], capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and len(lines) == len(expected) == 1, done.stderr[-2000:]
    line, key, words = expected[0]
    assert lines[0].startswith(f"{path}:{line}: ") and words in lines[0]


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.stem not in BOMBS], ids=lambda p: p.stem)
def test_check_prints_them_without_a_traceback(path, capsys):
    ok, expected, warnings = expectations(path)
    assert main(["check", str(path)]) == (0 if ok else 1)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert len(err.splitlines()) == len(warnings if ok else expected)
    assert all(line.startswith(f"{path}:") for line in err.splitlines())
    assert main(["check", "--strict", str(path)]) == (1 if warnings or not ok else 0)


def test_problems_of_several_files_come_file_by_file_each_sorted_by_line(capsys):
    paths = [str(p) for p in FIXTURES if p.stem in ("cascades", "money-1e30")]
    assert main(["check", *paths]) == 1
    err = capsys.readouterr().err.splitlines()
    keys = [(paths.index(line.split(":")[0]), int(line.split(":")[1])) for line in err]
    assert keys == sorted(keys) and len({k[0] for k in keys}) == 2
