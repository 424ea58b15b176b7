"""Read the parts of a scenario file against :mod:`topologies.language`, collecting every problem.

One :class:`Reader` per file: it reads mappings key by key (valid values out,
every problem with its line and key path in), and keeps the table of declared
names, so a reference to a name declared in a broken item is not "unknown" (one
root cause, one problem).

>>> from topologies.language import SECTIONS
>>> r = Reader("x.yaml", {("switches", 0): 3})
>>> r.fields({"name": "s1", "owner": 5}, ("switches", 0), SECTIONS["switches"])
{'name': 's1'}
>>> print(r.problems[0])
x.yaml:3: switches[0].owner: expected a name of at most 64 characters: ASCII letters, digits, '-' and '_', starting with a letter, got 5
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Problem, ScenarioError
from .language import ListOf, Section
from .units import describe
from .yamlsource import KeyPath, format_path


@dataclass
class Reader:
    """Collects problems while fields are read; one per scenario file."""

    file: str
    lines: dict[KeyPath, int]
    problems: list[Problem] = field(default_factory=list)
    #: kind -> name -> the object, or None when the item declaring it is broken
    names: dict[str, dict[str, Any]] = field(default_factory=dict)

    def problem(self, path: KeyPath, message: str) -> None:
        line = None
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                line = self.lines[path[:cut]]
                break
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def fields(self, value: Any, path: KeyPath, section: Section) -> dict | None:
        """The keys of ``value`` read by ``section``: valid values only; every problem reported."""
        if not isinstance(value, dict):
            keys = ", ".join(section.required) or "keys"
            self.problem(path, f"expected a mapping with {keys}, got {describe(value)}")
            return None
        out = {}
        for key, raw in value.items():
            kind = section.fields.get(key)
            if kind is None:
                self.problem(path + (key,), f"unknown key {describe(key)} (known: {', '.join(sorted(section.fields))})")
            elif isinstance(kind, ListOf):
                if raw is None and kind.nullable:
                    out[key] = []
                elif not isinstance(raw, list):
                    self.problem(path + (key,), f"expected a list, got {describe(raw)}")
                elif len(raw) < kind.min_items:
                    self.problem(path + (key,), f"needs at least {kind.min_items} item; the list is empty")
                else:
                    out[key] = raw
            elif isinstance(kind, Section):
                out[key] = {} if raw is None and kind.nullable else raw
            else:
                try:
                    out[key] = kind.parse(raw)
                except ValueError as exc:
                    if key in section.refs and isinstance(raw, str) and self.known(section.refs[key], raw):
                        out[key] = raw  # it names a broken item, reported where that item is
                    else:
                        self.problem(path + (key,), str(exc))
        for key in section.required:
            if key not in value:
                self.problem(path, f"missing key {key!r}")
        return out

    def define(self, kind: str, item: Any, key: str, path: KeyPath, default: Any = None) -> str | None:
        """Declare the name ``item[key]`` (even a broken one: references to it are not unknown)."""
        value = item.get(key, default) if isinstance(item, dict) else None
        if not isinstance(value, str):
            return None
        table = self.names.setdefault(kind, {})
        if value in table:
            self.problem(path + (key,), f"duplicate {kind} {value!r}")
            return None
        table[value] = None
        return value

    def known(self, kind: str, value: str) -> bool:
        return value in self.names.get(kind, {})

    def refer(self, kind: str, fields: dict, key: str, path: KeyPath) -> Any:
        """The object named by ``fields[key]``; None (reported once, or not at all) when there is none."""
        if key not in fields:
            return None  # missing or malformed: reported by fields()
        value = fields[key]
        if value not in self.names.get(kind, {}):
            self.problem(path + (key,), f"unknown {kind} {value!r}")
            return None
        return self.names[kind][value]  # None when its own item is broken: reported there

    def items(self, top: dict, key: str):
        for i, item in enumerate(top.get(key, ())):
            yield (key, i), item

    def error(self) -> ScenarioError:
        """Every problem so far, sorted by line (problems of the whole file first)."""
        return ScenarioError(sorted(self.problems, key=lambda p: -1 if p.line is None else p.line))
