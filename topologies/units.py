"""Parse rates and money written by people: ``10Mbps``, ``1.5 Gbps``, ``"0.25"``.

>>> parse_rate_kbps("10Mbps"), parse_rate_kbps(512), parse_rate_kbps("1Gbps")
(10000, 512, 1000000)
>>> parse_money("0.25")
Decimal('0.25')
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kbps|mbps|gbps|kbit/s|mbit/s|gbit/s)\s*$", re.IGNORECASE)
_FACTOR = {"k": 1, "m": 1000, "g": 1_000_000}


def parse_rate_kbps(value: object) -> int:
    """An integer number is kbps; a string needs a unit (kbps, Mbps, Gbps).

    Raises ``ValueError`` with a readable reason.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a rate such as 10Mbps, got {value!r}")
    if isinstance(value, int):
        kbps = value
    elif isinstance(value, str):
        m = _RATE.match(value)
        if not m:
            raise ValueError(f"expected a rate such as 500kbps, 10Mbps or 1Gbps, got {value!r}")
        exact = Decimal(m.group(1)) * _FACTOR[m.group(2)[0].lower()]
        if exact != exact.to_integral_value():
            raise ValueError(f"rate {value!r} is not a whole number of kbps")
        kbps = int(exact)
    else:
        raise ValueError(f"expected a rate such as 10Mbps, got {value!r}")
    if kbps <= 0:
        raise ValueError(f"rate must be positive, got {value!r}")
    return kbps


def parse_money(value: object) -> Decimal:
    """Money is exact: a string or an integer (floats are refused as inexact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"write money as a quoted decimal such as \"0.25\", got {value!r}")
    if isinstance(value, (int, str)):
        try:
            money = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"expected an amount such as \"0.25\", got {value!r}") from None
        if not money.is_finite():
            raise ValueError(f"amount must be finite, got {value!r}")
        if money < 0:
            raise ValueError(f"amount must not be negative, got {value!r}")
        return money
    raise ValueError(f"expected an amount such as \"0.25\", got {value!r}")


def format_rate(kbps: int) -> str:
    """A short human rate: 1500 -> '1.5Mbps'."""
    if kbps >= 1_000_000 and kbps % 1000 == 0:
        return f"{kbps / 1_000_000:g}Gbps"
    if kbps >= 1000:
        return f"{kbps / 1000:g}Mbps"
    return f"{kbps}kbps"
