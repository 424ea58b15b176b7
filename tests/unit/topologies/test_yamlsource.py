"""The YAML reader: what a scenario never needs is refused in one line; lines are kept for every key path."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from topologies import yamlsource
from topologies.errors import ScenarioError
from topologies.yamlsource import ALIAS_BUDGET, read_yaml_file, read_yaml_text

LIBRARY = ["topologies/default.yaml", *sorted(str(p) for p in Path("topologies/library").glob("*.yaml"))]


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ScenarioError) as info:
        read_yaml_text(text, "t.yaml")
    return [(p.line, p.path, p.message) for p in info.value.problems]


def test_the_c_parser_is_used_when_pyyaml_has_it():
    assert yaml.__with_libyaml__ and yamlsource.LOADER is yaml.CSafeLoader


@pytest.mark.parametrize("path", [p for p in LIBRARY if "large" not in p])  # the Python parser is slow on it
def test_c_and_python_parsers_give_the_same_data_and_lines_as_pyyaml(path, monkeypatch):
    data, lines = read_yaml_file(path)
    assert data == yaml.safe_load(Path(path).read_text())
    monkeypatch.setattr(yamlsource, "LOADER", yaml.SafeLoader)
    assert read_yaml_file(path) == (data, lines)
    assert lines[("links", 0, "capacity")] == next(i for i, line in enumerate(Path(path).read_text().splitlines(), 1)
                                                   if line.lstrip().startswith("- {id:") or "- id:" in line)


def test_merge_keys_merge_as_yaml_says_and_point_at_their_line():
    data, lines = read_yaml_text("base: &b {a: 1, b: {c: 2}}\nother: &o {a: 9, d: 4}\n"
                                 "x: {<<: [*b, *o], a: 3}\n", "m.yaml")
    assert data["x"] == {"a": 3, "b": {"c": 2}, "d": 4}  # written keys win; the first merged mapping wins
    assert lines[("x", "b", "c")] == 3 and lines[("x", "a")] == 3
    assert read_yaml_text("x: {<<: {p: 1}, q: 2}", "m.yaml")[0] == {"x": {"q": 2, "p": 1}}


@pytest.mark.parametrize("text, line, path, words", [
    ("a: !fast 10\n", 1, "a", "YAML tags such as !fast"),
    ("a: 1\nb: !!python/object/apply:os.system [ls]\n", 2, "b", "tag:yaml.org,2002:python/object/apply:os.system"),
    ("a: !!str 5\n", 1, "a", "YAML tags"),
    ("a: !!map {b: 1}\n", 1, "a", "YAML tags"),
    ("a:\n  ? [1, 2]\n  : 3\n", 2, "a", "complex key"),
    ("x: &k k\na: {*k : 1}\n", 2, "a", "an alias as a mapping key"),
    ("a: {1: 2}\n", 1, "a", "keys are names, got 1"),
    ("a: &x [1, *x]\n", 1, "", "recursive alias"),
    ("a: *nowhere\n", 1, "", "has no anchor"),
    ("a: {<<: 5}\n", 1, "a", "merge key (<<) takes a mapping"),
    ("a: {<<: {b: 1}, <<: {c: 1}}\n", 1, "a", "a second merge key"),
    ("a: 1\na: 2\n", 2, "a", "duplicate key"),
    ("a: 1\n---\nb: 2\n", 2, "", "one YAML document"),
    ("a: " + "[" * 40 + "]" * 40 + "\n", 1, "", "nest more than"),
    ("a: " + "9" * 5000 + "\n", 1, "a", "as a number"),
    ("a: [1, 2\n", 2, "", "not valid YAML"),
])
def test_what_a_scenario_never_needs_is_one_line_with_file_line_and_path(text, line, path, words):
    found = problems(text)
    assert len(found) == 1 and found[0][:2] == (line, path) and words in found[0][2], found


def test_every_refusal_in_a_file_is_reported_sorted_by_line():
    found = problems("c: !x 1\na: {? [1] : 2}\nb: !y 3\n")
    assert [f[0] for f in found] == [1, 2, 3]


def test_yaml_1_1_oddities_stay_text():
    data, _ = read_yaml_text("d: 2001-12-14\ne: =\nf: <<\ng: '1'\n", "t.yaml")
    assert data == {"d": "2001-12-14", "e": "=", "f": "<<", "g": "1"}


def billion_laughs(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_stops_at_the_budget_after_bounded_work(monkeypatch):
    # A smaller budget and a smaller bomb (10 ** 5 strings): were the budget not kept, this test would still
    # end, and fail, without taking the machine down.  The real 449-byte bomb runs in a memory-limited
    # subprocess in test_malformed.py.
    monkeypatch.setattr(yamlsource, "ALIAS_BUDGET", 1000)
    expanded = []
    real = yamlsource._Builder.point_at
    monkeypatch.setattr(yamlsource._Builder, "point_at",
                        lambda self, value, path, line: expanded.append(1) or real(self, value, path, line))
    found = problems(billion_laughs(5, width=10))
    assert len(found) == 1 and "more than 1,000 values" in found[0][2] and "alias bomb" in found[0][2]
    assert len(expanded) < 40  # aliases expanded before the budget ran out: a handful, not 11,110


def test_aliases_within_the_budget_work_and_the_budget_counts_every_value(monkeypatch):
    assert ALIAS_BUDGET == 100_000
    monkeypatch.setattr(yamlsource, "ALIAS_BUDGET", 1000)
    # 10 ** 2 strings at the last level, 111 values expanded in all: inside the budget.
    data, lines = read_yaml_text(billion_laughs(2, width=10), "ok.yaml")
    assert len(data["a2"]) == 10 and lines[("a2", 9, 9, 0)] == 3  # inside an alias: the alias's line
    assert "alias bomb" in problems(billion_laughs(3, width=10))[0][2]  # 10 ** 3 and more: over


def test_unreadable_files_are_one_problem(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (yamlsource.MAX_FILE_BYTES + 10))
    for path, words in ((tmp_path / "missing.yaml", "cannot read file"), (tmp_path, "cannot read file"),
                        (tmp_path / "latin1.yaml", "not UTF-8"), (big, "larger than")):
        with pytest.raises(ScenarioError, match=words) as info:
            read_yaml_file(path)
        assert len(info.value.problems) == 1
