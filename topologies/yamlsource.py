"""Read YAML while remembering the line of every key, so errors can point at it.

>>> data, lines = read_yaml_text("a:\\n  b: 1\\n", "x.yaml")
>>> data, lines[("a", "b")]
({'a': {'b': 1}}, 2)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, ScenarioError

KeyPath = tuple[Any, ...]


def format_path(path: KeyPath) -> str:
    """``("links", 3, "capacity")`` -> ``links[3].capacity``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _to_python(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                raise ScenarioError([Problem(file, key_node.start_mark.line + 1, format_path(path + (key,)), "duplicate key")])
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, path + (key,), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # The safe constructor resolves ints, floats, bools, nulls and strings.
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def read_yaml_text(text: str, file: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse ``text``; return the data and a map from key path to line number."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(file, line, "", f"not valid YAML: {reason}")]) from None
    lines: dict[KeyPath, int] = {}
    if node is None:
        return None, lines
    return _to_python(node, (), lines, file), lines


def read_yaml_file(path: str | Path) -> tuple[Any, dict[KeyPath, int]]:
    """Read a YAML file; a missing or unreadable file is a :class:`ScenarioError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), None, "", f"cannot read file: {exc.strerror if isinstance(exc, OSError) else exc}")]) from None
    return read_yaml_text(text, str(path))
