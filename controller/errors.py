"""The controller layer's errors, under the project's one base class."""
from __future__ import annotations

from topologies.errors import OpenIspError


class ControllerError(OpenIspError):
    """The controller cannot plan, install or keep what the market decided."""


class PlanError(ControllerError):
    """A rule plan or the messages built from it are ambiguous, or refer to
    something that does not exist."""
