"""The data plane's error, importable without Mininet (the controller's process never loads it)."""
from __future__ import annotations

from topologies.errors import OpenIspError


class DataplaneError(OpenIspError):
    """The emulated network could not be built, run, measured or torn down."""
