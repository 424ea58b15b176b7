"""The error tree: one base class for every openisp error, and the scenario layer's own.

Each layer derives its error from :class:`OpenIspError` (``ScenarioError``
here, ``MarketError`` and ``ControllerError`` in the controller,
``DataplaneError`` in the data plane), and the command line catches that one
class: a problem of any layer ends as a clear message and a non-zero exit,
never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass


class OpenIspError(Exception):
    """Base of every error openisp raises on purpose; its message is meant for people."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file: where (file, line, key path) and what."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ScenarioError(OpenIspError):
    """A scenario could not be loaded; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
