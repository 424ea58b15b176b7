"""Read YAML while remembering the line of every key, so errors can point at it.

A scenario needs mappings, lists and scalars; YAML can do more, and some of it
is dangerous in a file someone else wrote.  This reader builds the data from
the parser's events itself (with libyaml's C parser when PyYAML has it), so it
can refuse, each with one line naming the file and line:

- custom and explicit tags (``!foo``, ``!!python/...``): quotes say "text";
- complex mapping keys (a list or a mapping as a key), aliases as keys, and
  keys that are not text;
- a recursive alias, an undefined alias, and aliases (or merge keys) that would
  add more than :data:`ALIAS_BUDGET` values in all: a 449-byte "billion laughs"
  stops here, after a bounded amount of work, instead of filling memory;
- nesting deeper than :data:`MAX_DEPTH`, files over :data:`MAX_FILE_BYTES`,
  and more than one document.

Merge keys (``<<: *defaults``) work as YAML 1.1 defines them: keys written in
the mapping win over merged ones, and merged keys point at the ``<<`` line.
Timestamps and other YAML 1.1 oddities stay text.

>>> data, lines = read_yaml_text("a:\\n  b: 1\\n", "x.yaml")
>>> data, lines[("a", "b")]
({'a': {'b': 1}}, 2)
>>> read_yaml_text("x: &a {p: 1}\\ny: {<<: *a, q: 2}\\n", "m.yaml")[0]["y"]
{'q': 2, 'p': 1}
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                         SequenceEndEvent, SequenceStartEvent)

from .errors import Problem, ScenarioError
from .units import describe

KeyPath = tuple[Any, ...]

#: Values (scalars, lists, mappings) that aliases and merge keys may add to a file, in all.
ALIAS_BUDGET = 100_000
#: How deeply lists and mappings may nest (a scenario needs 6).
MAX_DEPTH = 32
#: The largest scenario file read (a 2,000-demand world is about 2 MB).
MAX_FILE_BYTES = 32 * 1024 * 1024

#: libyaml's C parser when PyYAML was built with it, else the pure-Python one.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_YAML = "tag:yaml.org,2002:"
_TYPED = {_YAML + t for t in ("null", "bool", "int", "float")}
_MERGE_TAG = _YAML + "merge"
_MERGE, _SKIP, _NONE = object(), object(), object()


def format_path(path: KeyPath) -> str:
    """``("links", 3, "capacity")`` -> ``links[3].capacity``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Fatal(Exception):
    """Reading cannot go on (an alias bomb, a recursive alias, ...)."""


class _Frame:
    """A list or mapping being built."""

    __slots__ = ("value", "path", "line", "anchor", "size", "key", "merges", "discard")

    def __init__(self, value, path, line, anchor, discard):
        self.value, self.path, self.line, self.anchor, self.discard = value, path, line, anchor, discard
        self.size, self.key, self.merges = 1, _NONE, []


#: What YAML also reads as a line break: a lone carriage return, NEL, and Unicode's line
#: and paragraph separators.
_OTHER_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def line_counter(text: str):
    r"""A function from a YAML mark to its 1-based line, counted by newlines as grep, sed
    and ``wc -l`` count them (YAML also breaks lines at a lone ``\r``).

    >>> text = "\rx: 1\na: 2\n"
    >>> mark = yaml.compose(text, Loader=yaml.SafeLoader).value[1][0].start_mark  # the key a
    >>> mark.line + 1, line_counter(text)(mark)
    (3, 2)
    """
    if not _OTHER_BREAKS.search(text):
        return lambda mark: mark.line + 1
    newlines = [m.start() for m in re.finditer("\n", text)]
    return lambda mark: bisect.bisect_left(newlines, mark.index) + 1


class _Builder:
    """Turns parser events into plain data and a line for every key path."""

    def __init__(self, file: str, line_of):
        """``line_of``: a YAML mark's line (:func:`line_counter`)."""
        self.file = file
        self.line_of = line_of
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.building: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.expanded = 0
        self.documents = 0
        self.tags: dict[str, str] = {}  # resolved tag of each plain scalar's text, once

    def problem(self, line: int, message: str, path: KeyPath = ()) -> None:
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def fatal(self, line: int, message: str):
        self.problem(line, message)
        raise _Fatal()

    # --- events ----------------------------------------------------------------
    def feed(self, event) -> None:
        kind = type(event)
        line = self.line_of(event.start_mark)
        if kind is ScalarEvent:
            self.scalar(event, line)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self.end()
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            self.start(event, line, {} if kind is MappingStartEvent else [])
        elif kind is AliasEvent:
            self.alias(event, line)
        elif kind is DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                self.fatal(line, "a scenario file holds one YAML document; this is a second one")

    def at_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is _NONE

    def child_path(self) -> KeyPath:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top.path + (len(top.value),)
        return top.path + (top.key,) if isinstance(top.key, str) else top.path

    def discarding(self) -> bool:
        return bool(self.stack) and (self.stack[-1].discard or self.stack[-1].key is _SKIP)

    def tag(self, event, line: int) -> None:
        if event.tag is not None and not (getattr(event, "implicit", False) is True):
            self.problem(line, f"YAML tags such as {event.tag} are not part of the scenario language: "
                               "write the value as it is (quote text)", self.child_path())

    def start(self, event, line: int, value) -> None:
        self.tag(event, line)
        discard = self.discarding()
        if self.at_key():
            self.problem(line, "a list or a mapping as a mapping key (a complex key) is not part of the "
                               "scenario language: keys are names", self.stack[-1].path)
            discard = True
        if len(self.stack) >= MAX_DEPTH:
            self.fatal(line, f"lists and mappings nest more than {MAX_DEPTH} deep")
        path = self.child_path()
        if not discard:
            self.lines.setdefault(path, line)
        if event.anchor is not None:
            self.building.add(event.anchor)
        self.stack.append(_Frame(value, path, line, event.anchor, discard))

    def end(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self.merge(frame)
        if frame.anchor is not None:
            self.building.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, frame.size)
        if frame.discard and self.stack and self.stack[-1].key is _NONE and isinstance(self.stack[-1].value, dict):
            self.stack[-1].key = _SKIP  # a complex key: its value goes too
            return
        self.attach(frame.value, frame.size, frame.line)

    def scalar(self, event, line: int) -> None:
        if event.tag is not None:
            self.tag(event, line)
        value = self.construct(event, line)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        stack = self.stack
        if stack and stack[-1].key is _NONE and type(stack[-1].value) is dict:
            self.key(value, line)
            return
        if stack and type(stack[-1].value) is list and not stack[-1].discard:
            top = stack[-1]
            self.lines[top.path + (len(top.value),)] = line
        self.attach(value, 1, line)

    def key(self, key: Any, line: int) -> None:
        top = self.stack[-1]
        if top.discard:
            top.key = _SKIP
        elif key is _MERGE:
            top.key = _MERGE
            if top.merges:
                self.problem(line, "a second merge key (<<) in one mapping", top.path)
                top.key = _SKIP
        elif not isinstance(key, str):
            self.problem(line, f"keys are names, got {describe(key)}", top.path)
            top.key = _SKIP
        elif key in top.value:
            self.problem(line, "duplicate key", top.path + (key,))
            top.key = _SKIP
        else:
            top.key = key
            self.lines[top.path + (key,)] = line

    def alias(self, event, line: int) -> None:
        name = event.anchor
        if name in self.building:
            self.fatal(line, f"alias *{name} refers to a value that contains it (a recursive alias)")
        if name not in self.anchors:
            self.fatal(line, f"alias *{name} has no anchor &{name} before it")
        if self.at_key():
            self.problem(line, "an alias as a mapping key is not part of the scenario language", self.stack[-1].path)
            self.stack[-1].key = _SKIP
            return
        value, size = self.anchors[name]
        self.spend(size, line)
        if not self.discarding():
            self.point_at(value, self.child_path(), line)
        self.attach(value, size, line)

    def attach(self, value: Any, size: int, line: int) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if top.key is _MERGE:
            top.merges.append((value, line))
        elif top.key is not _SKIP and not top.discard:
            top.value[top.key] = value
        top.key = _NONE

    # --- aliases and merge keys ------------------------------------------------
    def spend(self, size: int, line: int) -> None:
        self.expanded += size
        if self.expanded > ALIAS_BUDGET:
            self.fatal(line, f"aliases and merge keys here expand to more than {ALIAS_BUDGET:,} values "
                             "(an alias bomb?); write the values out")

    def point_at(self, value: Any, path: KeyPath, line: int) -> None:
        """Every key path inside an aliased or merged value points at the line that brought it in."""
        todo = [(value, path)]
        while todo:
            item, at = todo.pop()
            self.lines.setdefault(at, line)
            if isinstance(item, dict):
                todo += [(v, at + (k,)) for k, v in item.items()]
            elif isinstance(item, list):
                todo += [(v, at + (i,)) for i, v in enumerate(item)]

    def merge(self, frame: _Frame) -> None:
        for value, line in frame.merges:
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                self.problem(line, "a merge key (<<) takes a mapping, or a list of mappings", frame.path)
                continue
            for source in sources:
                for k, v in source.items():
                    if k not in frame.value:
                        frame.value[k] = v
                        self.point_at(v, frame.path + (k,), line)

    # --- scalars ---------------------------------------------------------------
    def construct(self, event, line: int) -> Any:
        text = event.value
        if not event.implicit[0]:
            return text  # quoted, or tagged (reported): text
        tag = self.tags.get(text)
        if tag is None:
            tag = self.tags[text] = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))
        if tag not in _TYPED:
            if tag == _MERGE_TAG and self.at_key():
                return _MERGE
            return text  # text, and YAML 1.1's timestamps, '=' and '<<' as a value: text too
        try:
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
        except (ValueError, ArithmeticError):  # e.g. an integer of 5,000 digits
            self.problem(line, f"cannot read {text[:20]!r}{'...' if len(text) > 20 else ''} as a number",
                         self.child_path())
            return text


def read_yaml_text(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``text``; return the data and a map from key path to line number."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError([Problem(file, None, "", f"larger than {MAX_FILE_BYTES // 2**20} MB; "
                                                     "a scenario file is far smaller")])
    builder = _Builder(file, line_counter(text))
    parser = LOADER(text)
    try:
        while parser.check_event():
            builder.feed(parser.get_event())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        builder.problems.append(Problem(file, builder.line_of(mark) if mark is not None else None, "",
                                        f"not valid YAML: {reason}"))
    except _Fatal:
        pass
    finally:
        parser.dispose()
    if builder.problems:
        raise ScenarioError(sorted(builder.problems, key=lambda p: p.line or 0))
    return builder.root, builder.lines


def read_yaml_file(path: str | Path) -> tuple[Any, dict[KeyPath, int]]:
    """Read a YAML file; a missing, unreadable or oversized file is a :class:`ScenarioError`."""
    try:
        chunks: list[bytes] = []
        with open(path, "rb") as f:  # in chunks: /dev/zero or a pipe is read no further than the limit
            while sum(map(len, chunks)) <= MAX_FILE_BYTES and (chunk := f.read(1 << 20)):
                chunks.append(chunk)
        text = b"".join(chunks).decode("utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), None, "", f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), None, "", f"cannot read file: not UTF-8 text ({exc.reason} "
                                                          f"at byte {exc.start})")]) from None
    return read_yaml_text(text, str(path))
