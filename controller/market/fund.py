"""The universal-service fund: the market operator pays for the floors.

Floors are an obligation of the market, not a purchase of the participant
they serve: a customer held at its floor may be served below what the rates
cost, and a provider may carry floor traffic at a loss.  Whatever a payment
rule asks, the fund tops it up so that

* no customer pays more than the value of what it is served (whole kbps),
* no provider receives less than the asks of what it carries,
* a party that buys and sells ends with a net gain of at least zero,

and the operator's cost of doing so is reported on its own line.  Without
floors VCG, LMP and pay-as-bid are individually rational already and the
fund pays nothing (the tests check it).

>>> from decimal import Decimal as D
>>> fund_shortfalls({"a": (D("0.717"), D(0))}, {"a": D("0.474")}, {})
({'a': (Decimal('0.474000'), Decimal('0.000000'))}, {'a': Decimal('0.243000')})
"""
from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from .result import MONEY, money

ZERO = Decimal(0)


def fund_shortfalls(transfers: dict[str, tuple[Decimal, Decimal]], value: dict[str, Decimal],
                    cost: dict[str, Decimal]) -> tuple[dict[str, tuple[Decimal, Decimal]], dict[str, Decimal]]:
    """``transfers`` (name -> (pays, receives)) after the fund, and what the fund
    paid each participant it topped up.  ``value`` and ``cost``: what each was
    served and what it sold, at its declared values and asks.  A top-up first
    lowers what the participant pays, then raises what it receives; it is
    rounded up to the money unit, so the guarantee holds exactly."""
    out, funded = {}, {}
    for name in sorted(set(transfers) | set(value) | set(cost)):
        pays, receives = transfers.get(name, (ZERO, ZERO))
        need = cost.get(name, ZERO) - value.get(name, ZERO)  # the least net transfer that leaves it no worse off
        short = need - (receives - pays)
        if short > 0:
            top = short.quantize(MONEY, rounding=ROUND_CEILING)
            cut = min(pays, top)
            pays, receives = pays - cut, receives + top - cut
            funded[name] = money(top)
        out[name] = (money(pays), money(receives))
    return out, funded
