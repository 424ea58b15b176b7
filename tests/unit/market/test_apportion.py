"""Rounding shares to the money unit so they add up exactly (payments.apportion)."""
from __future__ import annotations

from decimal import Decimal as D

from controller.market.payments import apportion


def test_each_share_is_rounded_down_and_the_units_left_go_to_the_largest_remainders():
    # 0.0000017 and 0.0000013 of 0.000003: both rounded down (1 + 1), the unit left goes to
    # a's remainder (0.7), not b's (0.3), although b's rounds up to the nearest (half-even
    # would give 2 + 1 and nothing left).
    assert apportion({"a": D("0.0000017"), "b": D("0.0000013")}, D("0.000003")) == \
        {"a": D("0.000002"), "b": D("0.000001")}
    # 1.6, 1.6 and 1.8 units of 5: 1 + 1 + 1, then c (0.8) and a (0.6, before b by name).
    assert apportion({"a": D("0.0000016"), "b": D("0.0000016"), "c": D("0.0000018")}, D("0.000005")) == \
        {"a": D("0.000002"), "b": D("0.000001"), "c": D("0.000002")}
    # Equal remainders: by name.
    assert apportion({"b": D("0.0000015"), "a": D("0.0000015")}, D("0.000003")) == \
        {"a": D("0.000002"), "b": D("0.000001")}


def test_a_total_below_the_parts_takes_units_back_from_the_smallest_remainders():
    # Rounded down the parts make 0.000002 + 0.000002 = 0.000004, one unit over the total:
    # it comes off c (remainder 0.1) rather than d (0.9).
    assert apportion({"c": D("0.0000021"), "d": D("0.0000029")}, D("0.000003")) == \
        {"c": D("0.000001"), "d": D("0.000002")}
    # 3.9 and 2.1 units of 4: the unit comes off d (remainder 0.1), though c comes first by name.
    assert apportion({"c": D("0.0000039"), "d": D("0.0000021")}, D("0.000004")) == \
        {"c": D("0.000003"), "d": D("0.000001")}
    # 5.1 and 1.5 units of 5: off c (remainder 0.1), though c's share is the larger.
    assert apportion({"c": D("0.0000051"), "d": D("0.0000015")}, D("0.000005")) == \
        {"c": D("0.000004"), "d": D("0.000001")}


def test_shares_that_add_up_are_kept_and_zero_stays_zero():
    assert apportion({"a": D("1.5"), "b": D("0.25")}, D("1.75")) == {"a": D("1.500000"), "b": D("0.250000")}
    assert apportion({"a": D(0), "b": D("0.000002")}, D("0.000001")) == {"a": D("0.000000"), "b": D("0.000001")}


def test_a_buyer_s_payment_is_split_by_weight_and_nothing_to_split_by_gives_zeros():
    from types import SimpleNamespace as NS

    from controller.market.payments import _split

    demands = [NS(id="a"), NS(id="b")]
    assert _split(D("1.000000"), lambda d: {"a": 1, "b": 3}[d.id], demands) == {"a": D("0.250000"), "b": D("0.750000")}
    assert _split(D("1.000000"), lambda d: 0, demands) == {"a": D("0.000000"), "b": D("0.000000")}  # no weight
    assert _split(D(0), lambda d: 1, demands) == {"a": D("0.000000"), "b": D("0.000000")}  # nothing to share
