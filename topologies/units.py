"""Parse rates and money written by people: ``10Mbps``, ``1.5 Gbps``, ``"0.25"``.

The patterns here are the language's: the loader matches them whole
(``re.fullmatch``, as a JSON Schema validator reads ``^...$``) and
``schema.json`` carries the same strings (ASCII digits only, every bound in
the pattern), so a value one accepts the other accepts too.

- a rate is whole kbps below 1 Tbps: an integer of kbps, or a number and a
  unit (kbps, Mbps, Gbps, or kbit/s, Mbit/s, Gbit/s; any case), with as many
  decimals as whole kbps allow (``1.5Mbps``, ``2.125Gbps``, not ``0.5kbps``);
- money is a quoted decimal below a million with at most 6 decimals (the
  market's resolution), or a whole number; never a float, which is inexact.

>>> parse_rate_kbps("10Mbps"), parse_rate_kbps(512), parse_rate_kbps("1Gbps"), parse_rate_kbps("1.5 gbit/s")
(10000, 512, 1000000, 1500000)
>>> parse_money("0.25")
Decimal('0.25')
>>> parse_rate_kbps("0.5kbps")
Traceback (most recent call last):
ValueError: expected a positive rate such as 500kbps, 10Mbps or 1.5Gbps (whole kbps, under 1 Tbps), got '0.5kbps'
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

#: Rates are below 1 Tbps: a bound the market's LP handles with room to spare.
MAX_KBPS = 10**9 - 1
#: Money below a million per Mbps, to the micro-unit.
MAX_MONEY = 10**6 - 1
MONEY_DECIMALS = 6
_FACTOR = {"k": 1, "m": 1000, "g": 1_000_000}


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _unit(prefix: str) -> str:
    return f"{_any_case(prefix)}(?:{_any_case('bps')}|{_any_case('bit/s')})"


def rate_pattern(zero: bool = False) -> str:
    """The pattern of a rate written as text; ``zero`` admits ``0kbps``.

    Digits per unit keep every rate under 1 Tbps; decimals per unit keep it whole kbps.
    """
    number = {"k": "[0-9]{1,9}", "m": "[0-9]{1,6}(?:\\.[0-9]{1,3})?", "g": "[0-9]{1,3}(?:\\.[0-9]{1,6})?"}
    alternatives = "|".join(f"{number[p]}[ \\t]*{_unit(p)}" for p in "kmg")
    nonzero = "" if zero else "(?=[^1-9]*[1-9])"
    return f"^[ \\t]*{nonzero}(?:{alternatives})[ \\t]*$"


MONEY_PATTERN = f"^[ \\t]*[0-9]{{1,{len(str(MAX_MONEY))}}}(?:\\.[0-9]{{1,{MONEY_DECIMALS}}})?[ \\t]*$"
_RATE = re.compile(rate_pattern())
_RATE_OR_ZERO = re.compile(rate_pattern(zero=True))
_MONEY = re.compile(MONEY_PATTERN)
_PARTS = re.compile(r"([0-9.]+)[ \t]*([a-zA-Z])")


def whole_number(value: object) -> int | None:
    """``value`` as an int when it is a whole number (JSON's integers include ``2.0``), else None.

    >>> whole_number(3), whole_number(3.0), whole_number(3.5), whole_number(True)
    (3, 3, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def describe(value: object) -> str:
    """A short, safe rendering of any value for a message (never a huge or deeply nested repr).

    >>> describe([1, [2]]), describe(None), describe(True), describe("x" * 50)[:12]
    ('a list', 'nothing', 'true (a YAML boolean; quote it for text)', "'xxxxxxxxxxx")
    """
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a YAML boolean; quote it for text)"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 24 else text[:20] + "..."
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _rate(value: object, pattern: re.Pattern, low: int) -> int:
    number = whole_number(value)
    if number is not None:
        if low <= number <= MAX_KBPS:
            return number
    elif isinstance(value, str) and pattern.fullmatch(value):
        amount, prefix = _PARTS.search(value).groups()
        return int(Decimal(amount) * _FACTOR[prefix.lower()])
    what = "a rate (0 or more)" if low == 0 else "a positive rate"
    raise ValueError(f"expected {what} such as 500kbps, 10Mbps or 1.5Gbps (whole kbps, under 1 Tbps), "
                     f"got {describe(value)}")


def parse_rate_kbps(value: object) -> int:
    """A positive rate: an integer is kbps; text needs a unit.  ``ValueError`` with a reason."""
    return _rate(value, _RATE, 1)


def parse_rate_or_zero_kbps(value: object) -> int:
    """Like :func:`parse_rate_kbps`, and 0 (``0``, ``"0"``, ``0kbps``) is allowed.

    >>> parse_rate_or_zero_kbps("0"), parse_rate_or_zero_kbps("0Mbps"), parse_rate_or_zero_kbps("2Mbps")
    (0, 0, 2000)
    """
    if value == "0":
        return 0
    return _rate(value, _RATE_OR_ZERO, 0)


def parse_money(value: object) -> Decimal:
    """Money is exact: quoted text or a whole number; floats are refused as inexact."""
    number = whole_number(value)
    if number is not None and 0 <= number <= MAX_MONEY:
        return Decimal(number)
    if isinstance(value, str) and _MONEY.fullmatch(value):
        return Decimal(value.strip())
    if isinstance(value, float) and number is None:
        raise ValueError(f"write money as a quoted decimal such as \"0.25\" (a float is inexact), got {describe(value)}")
    raise ValueError(f"expected an amount such as \"0.25\" (at least 0, under {MAX_MONEY + 1:,}, at most "
                     f"{MONEY_DECIMALS} decimals), got {describe(value)}")


def format_rate(kbps: int) -> str:
    """A short human rate: 1500 -> '1.5Mbps'."""
    if kbps >= 1_000_000 and kbps % 1000 == 0:
        return f"{kbps / 1_000_000:g}Gbps"
    if kbps >= 1000:
        return f"{kbps / 1000:g}Mbps"
    return f"{kbps}kbps"


def text_table(header: tuple, rows: list[tuple]) -> str:
    """Left-aligned columns under a header and a rule of dashes, no trailing blanks.

    >>> print(text_table(("a", "bb"), [(1, "x"), ("long", "")]))
    a     bb
    ----  --
    1     x
    long
    """
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip(),
                      *(fmt.format(*map(str, row)).rstrip() for row in rows)])
