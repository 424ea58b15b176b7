"""The console's market commands against a real participants' API on loopback, a fake
controller (its status as the test says) and fake links and generators."""
from __future__ import annotations

import copy
import os

import pytest

from controller.api import Exchange
from controller.market import clear_market
from dataplane.console import ConsoleError, MarketSession, changes, market_cli, read_tokens
from dataplane.verdict import Measured
from topologies.loader import load_scenario

from ..api.conftest import CHEAP

WORLD = "topologies/library/local-first.yaml"


class FakeController:
    """``status()`` answers ``now``; after ``post('/epoch')`` or a link command, ``later`` takes
    over once ``lag`` more polls have gone by."""

    def __init__(self, status: dict, lag: int = 2):
        self.now, self.later, self.lag, self.posted, self.polls = status, None, lag, [], 0

    def status(self):
        """``later`` may be a list: one status per poll, once the lag is over."""
        self.polls += 1
        if self.later is not None:
            if self.lag <= 0:
                if isinstance(self.later, list):
                    self.now = self.later.pop(0)
                    self.later = self.later or None
                else:
                    self.now, self.later = self.later, None
            self.lag -= 1
        return copy.deepcopy(self.now)

    def post(self, path, body):
        self.posted.append((path, body))
        return {}


@pytest.fixture(scope="module")
def world():
    return load_scenario(WORLD)


def first_status(world) -> dict:
    result = clear_market(world)
    return {"epoch": 1, "ready": True, "links_down": [],
            "allocated_kbps": {d.demand_id: d.allocated_kbps for d in result.demands},
            "paths": {d.demand_id: [list(p.switches) for p in d.paths] for d in result.demands},
            "path_kbps": {d.demand_id: [p.kbps for p in d.paths] for d in result.demands},
            "source_port_slices": 64}


@pytest.fixture
def exchange(world, tmp_path):
    ex = Exchange.open(WORLD, tmp_path, CHEAP)
    ex.record(1, world, clear_market(world))
    server = ex.serve(0)
    yield ex, server.url, tmp_path / "tokens"
    server.stop()
    ex.close()


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


def session(world, controller, exchange=None, **kwargs) -> MarketSession:
    clock = Clock()
    api, tokens = (exchange[1], exchange[2]) if exchange else (None, None)
    return MarketSession(world, controller, api=api, tokens=tokens, clock=clock, sleep=clock.sleep, **kwargs)


def test_market_shows_each_demands_rate_payment_and_paths(world, exchange):
    text = session(world, FakeController(first_status(world)), exchange).market()
    head, header, rule, *rows = text.splitlines()
    assert head == "epoch 1, links down: none"
    assert rows[0].split() == ["ann-cy", "4Mbps", "0.200000", "nb1", ">", "nb2"]
    assert rows[2].split()[:3] == ["bo-ed", "4Mbps", "2.000000"]
    assert len(rows) == 4


def test_paths_and_prices_read_the_status_and_the_last_clearing(world, exchange):
    s = session(world, FakeController(first_status(world)), exchange)
    assert s.paths("ann-cy") == "ann-cy: 4Mbps allocated\n  nb1 > nb2  4Mbps"
    with pytest.raises(ConsoleError, match="unknown demand 'nope' \\(one of: ann-cy, di-bo, bo-ed, ed-ann\\)"):
        s.paths("nope")
    prices = {line.split()[0]: line.split() for line in s.prices().splitlines()[3:]}
    assert prices["direct"] == ["direct", "northside", "4Mbps", "0.050000"]
    assert prices["core"][-1] == "0.300000"
    assert s.prices().splitlines()[0] == "epoch 1 (vcg)"


def test_ask_and_bid_change_the_book_through_the_api_as_the_owner(world, exchange):
    ex = exchange[0]
    s = session(world, FakeController(first_status(world)), exchange)
    said = s.ask("direct", "0.60")
    assert said.startswith("offer-direct on direct (northside): asks 0.60 per Mbps from epoch 2")
    assert str(ex.book.offer("offer-direct").ask_per_mbps) == "0.60"
    said = s.bid("ann-cy", "6Mbps", "1.50")
    assert said.startswith("ann-cy (ann): bids for 6Mbps at 1.50 per Mbps from epoch 2")
    mine = ex.book.demand("ann-cy")
    assert mine.max_kbps == 6000 and str(mine.value_per_mbps) == "1.50"
    with pytest.raises(ConsoleError, match="the market refused: .*HTTP 422"):
        s.bid("ann-cy", "6Mbps", "1.5e3")  # money as a float: the scenario language refuses it
    assert str(ex.book.demand("ann-cy").value_per_mbps) == "1.50"  # a refusal changes nothing
    with pytest.raises(ConsoleError, match="no offer on link 'nope'"):
        s.ask("nope", "1")
    with pytest.raises(ConsoleError, match="unknown demand 'nope'"):
        s.bid("nope", "1Mbps", "1")
    assert set(read_tokens(exchange[2])) >= {"northside", "ann", "transit"}


def test_without_a_market_the_market_commands_say_so(world):
    s = session(world, FakeController({"epoch": 0, "ready": True, "paths": {"ann-cy": [["nb1", "nb2"]]},
                                       "allocated_kbps": {}}))
    for act in (lambda: s.ask("direct", "1"), lambda: s.bid("ann-cy", "1Mbps", "1"), s.prices):
        with pytest.raises(ConsoleError, match="no market in this run"):
            act()
    assert s.market().splitlines()[0] == "epoch 0, links down: none (no market: shortest or hierarchical paths)"
    assert s.paths("ann-cy") == "ann-cy: no market\n  nb1 > nb2"


def test_fail_cuts_both_ends_and_waits_for_the_re_plan(world):
    before = first_status(world)
    controller = FakeController(before, lag=3)
    ran = []

    def run_link(cmd):
        ran.append(cmd)
        after = copy.deepcopy(before)
        after.update(links_down=["direct"], epoch=1)
        after["paths"]["ann-cy"] = [["nb1", "bb-west", "nb2"]]
        controller.later = [{**before, "links_down": ["direct"], "ready": False}] * 5 + [after]  # installing
        return True

    s = session(world, controller, run_link=run_link)
    text = s.fail("direct")
    assert ran == [["ip", "link", "set", "nb1-eth4", "down"], ["ip", "link", "set", "nb2-eth4", "down"]][:len(ran)]
    assert len(ran) == 2
    first, *moved = text.splitlines()
    assert first.startswith("direct down: re-planned in 0.40 s") and "every switch holds the new plan" in first
    assert moved == ["  ann-cy: 4Mbps over nb1 > nb2 -> 4Mbps over nb1 > bb-west > nb2"]
    assert s.fail("direct") == "direct is already down"
    with pytest.raises(ConsoleError, match="unknown link 'nope'"):
        s.fail("nope")


def test_restore_waits_for_the_link_to_leave_the_down_list(world):
    down = {**first_status(world), "links_down": ["core"]}
    controller = FakeController(down, lag=1)

    def run_link(cmd):
        controller.later = {**down, "links_down": []}
        return True

    s = session(world, controller, run_link=run_link)
    assert s.restore("core").splitlines() == ["core up: re-planned in 0.05 s (epoch 1, every switch holds the new plan)",
                                              "  no demand moved"]
    stuck = session(world, FakeController(down), run_link=lambda cmd: True, wait_s=2)
    with pytest.raises(ConsoleError, match="restore core: the controller had not re-planned after 2 s"):
        stuck.restore("core")
    with pytest.raises(ConsoleError, match="could not run ip link set"):
        session(world, FakeController(down), run_link=lambda cmd: False).restore("core")


def test_epoch_asks_the_controller_and_shows_what_moved(world):
    before = first_status(world)
    controller = FakeController(before)
    s = session(world, controller)
    original = controller.post

    def post(path, body):
        after = copy.deepcopy(before)
        after["epoch"] = 2
        after["allocated_kbps"]["di-bo"] = 2000
        controller.later = after
        return original(path, body)

    controller.post = post
    lines = s.epoch().splitlines()
    assert controller.posted == [("/epoch", {})]
    assert lines[0].startswith("epoch 2: cleared and installed in ")
    assert lines[1:] == ["  di-bo: 3Mbps over nb2 > nb1 -> 2Mbps over nb2 > nb1"]


def test_traffic_offers_twice_the_allocation_and_reports_the_share_received(world):
    seen = []

    def measure(net, scenario, offered, seconds, **kwargs):
        seen.append((offered, seconds, kwargs["flows_for"]("ann-cy"), [d.id for d in kwargs["demands"]]))
        return {"ann-cy": Measured(offered_kbps=offered["ann-cy"], received_kbps=3960.0, loss_percent=50.5)}

    status = first_status(world)
    s = session(world, FakeController(status), measure=measure)
    assert s.traffic("ann-cy", 2) == "ann-cy: 2 s at 8Mbps: received 3.96Mbps (99% of its 4Mbps allocation), loss 50.5%"
    assert seen == [({"ann-cy": 8000}, 2, 16, ["ann-cy"])]
    status["path_kbps"]["ann-cy"] = [3000, 1000]
    session(world, FakeController(status), measure=measure).traffic("ann-cy", 1)
    assert seen[-1][2] == 64  # a split demand gets one flow per source-port slice
    failed = session(world, FakeController(status), measure=lambda *a, **k: {
        "ann-cy": Measured(offered_kbps=1, received_kbps=None, error="receiver died")})
    with pytest.raises(ConsoleError, match="ann-cy: the measurement failed: receiver died"):
        failed.traffic("ann-cy")
    with pytest.raises(ConsoleError, match="seconds must be between 1 and 60"):
        s.traffic("ann-cy", 0)
    with pytest.raises(ConsoleError, match="unknown demand 'x'"):
        s.traffic("x")


def test_changes_lists_only_the_demands_that_moved():
    same = {"allocated_kbps": {"a": 1000}, "paths": {"a": [["s"]]}}
    assert changes(same, copy.deepcopy(same)) == []
    assert changes(same, {"allocated_kbps": {}, "paths": {}}) == ["a: 1Mbps over s -> 0kbps over -"]


class NoNet(dict):
    """What Mininet's console reads of a network before a script: nothing."""


def test_the_console_runs_the_market_commands_and_says_what_is_wrong(world, exchange, tmp_path, capsys):
    s = session(world, FakeController(first_status(world)), exchange)
    script = tmp_path / "script"
    script.write_text("paths ann-cy\npaths\nask direct\nask direct 0.07\nprices\ntraffic ann-cy x\nbid nope 1Mbps 1\n")
    with open(os.devnull) as nothing:
        market_cli(NoNet(), s, stdin=nothing, script=str(script))
    out = capsys.readouterr().out
    assert "ann-cy: 4Mbps allocated\n  nb1 > nb2  4Mbps" in out
    assert "usage: paths DEMAND" in out and "usage: ask LINK PRICE" in out
    assert "offer-direct on direct (northside): asks 0.07 per Mbps" in out
    assert "epoch 1 (vcg)" in out
    assert "error: seconds must be a number, not 'x'" in out
    assert "error: unknown demand 'nope'" in out
    assert str(exchange[0].book.offer("offer-direct").ask_per_mbps) == "0.07"
