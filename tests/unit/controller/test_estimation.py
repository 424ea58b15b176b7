"""The closed loop: bids from measured use, and the core clearing with them each epoch."""
from __future__ import annotations

import pytest

from controller.core import ControllerCore, FlowStat, MeterStat, Settings
from controller.estimation import HEADROOM, WELL_BELOW, estimate_bids, with_bids
from controller.planner import make_planner
from topologies.loader import load_scenario

S = load_scenario("topologies/library/closedloop.yaml")  # video 6 Mbps max, bulk 4 Mbps max with a 200 kbps floor
ALLOC = {"video": 2000, "bulk": 4000}


def kbps_bytes(kbps: float, seconds: float) -> int:
    return round(kbps * 1000 / 8 * seconds)


def test_a_demand_held_back_by_its_meter_bids_its_max_rate():
    bids = estimate_bids(S, ALLOC, {"video": kbps_bytes(2000, 3)}, {"video": 50}, 3)
    assert bids["video"] == 6000


def test_a_demand_well_below_its_allocation_bids_what_it_used_plus_headroom():
    used = 1000  # half of video's 2 Mbps
    bids = estimate_bids(S, ALLOC, {"video": kbps_bytes(used, 3)}, {}, 3)
    assert bids["video"] == round(used * (1 + HEADROOM))


def test_a_quiet_demand_bids_no_less_than_its_floor():
    assert estimate_bids(S, ALLOC, {"bulk": 0}, {}, 3, ever_sent={"bulk"})["bulk"] == 200


def test_a_demand_never_seen_sending_bids_its_max_rate():
    # Before a run's traffic starts nothing is sent: no demand is cut for that.
    assert estimate_bids(S, ALLOC, {"bulk": 0, "video": 0}, {}, 3, ever_sent=set()) == {"bulk": 4000, "video": 6000}
    assert estimate_bids(S, ALLOC, {"bulk": 0}, {}, 3, ever_sent={"bulk"})["bulk"] == 200


def test_a_demand_near_its_allocation_or_unmeasured_bids_its_max_rate():
    near = kbps_bytes(WELL_BELOW * 4000 + 10, 3)
    bids = estimate_bids(S, ALLOC, {"bulk": near}, {}, 3)
    assert bids == {"bulk": 4000, "video": 6000}  # video: nothing measured


def test_rates_are_measured_as_emulated_and_bid_as_real():
    from dataclasses import replace

    from topologies.model import EmulationSettings

    scaled = replace(S, emulation=EmulationSettings(0.001))  # 1 kbps emulated is 1 Mbps real
    bids = estimate_bids(scaled, {"video": 4000}, {"video": kbps_bytes(1, 3)}, {}, 3)
    assert bids["video"] == round(1000 * (1 + HEADROOM))


def test_bids_replace_max_rates_only():
    market = with_bids(S, {"bulk": 300})
    assert market.demand["bulk"].max_kbps == 300 and market.demand["bulk"].floor_kbps == 200
    assert market.demand["video"] is S.demand["video"]


def test_the_core_clears_the_next_epoch_with_the_measured_bids():
    core = ControllerCore(S, make_planner(S, "market", "lmp"), Settings(epoch_s=3, stats_s=0))
    west = S.switch["west"].dpid
    core.connected(west, now=0)
    ops = core.flow_stats(west, [], False, now=0)[west]
    core.barrier_reply(west, ops[-1].token, now=0)
    assert core.current.allocated_kbps == ALLOC
    plan = core.current.rules.for_switch(west)
    flow = {name: next(f for f in plan.flows if f.meter_id is not None and plan.meter_owners.get((west, f.meter_id),
                                                                                                   ("",) * 3)[1] == name)
            for name in ("video", "bulk")}
    video_meter = flow["video"].meter_id
    # Three seconds: video sends 4 Mbps and its meter drops half; bulk sends nothing.
    core.flow_stats(west, [FlowStat(1, flow["video"].priority, flow["video"].match, flow["video"].cookie, 1250,
                                    kbps_bytes(4000, 3)),
                           FlowStat(1, flow["bulk"].priority, flow["bulk"].match, flow["bulk"].cookie, 0, 0)],
                    False, now=3)
    core.meter_stats(west, [MeterStat(video_meter, 1250, kbps_bytes(4000, 3), 620)], now=3)
    core.tick(now=3)
    assert core.status.bids == {"video": 6000, "bulk": 4000}  # bulk was never seen sending: not cut
    # Three more seconds: bulk sends 1.5 Mbps, then goes quiet.
    sent = kbps_bytes(1500, 3)
    core.flow_stats(west, [FlowStat(1, flow["bulk"].priority, flow["bulk"].match, flow["bulk"].cookie, 10, sent)],
                    False, now=5)
    core.tick(now=6)
    # A poll reports every flow: bulk's counters have not moved.
    core.flow_stats(west, [FlowStat(1, flow["bulk"].priority, flow["bulk"].match, flow["bulk"].cookie, 10, sent)],
                    False, now=8)
    core.tick(now=9)
    assert core.status.bids == {"video": 6000, "bulk": 200}
    assert core.current.allocated_kbps == {"video": 5800, "bulk": 200}


def test_declared_demand_ignores_measured_use():
    from dataclasses import replace

    declared = replace(S, market=replace(S.market, demand_estimation="declared"))
    core = ControllerCore(declared, make_planner(declared, "market", "lmp"), Settings(epoch_s=3, stats_s=0))
    core.connected(S.switch["west"].dpid, now=0)
    core.flow_stats(S.switch["west"].dpid, [], False, now=0)
    core.tick(now=3)
    assert core.bids == {} and core.current.allocated_kbps == ALLOC


def test_a_few_pings_do_not_make_a_demand_active():
    from controller.estimation import active_demands

    pings = kbps_bytes(1, 3)  # a ping a second: 1 kbps of a 2 Mbps allocation
    assert active_demands(S, ALLOC, {"video": pings, "bulk": kbps_bytes(400, 3)}, 3) == {"bulk"}
    assert estimate_bids(S, ALLOC, {"video": pings}, {}, 3)["video"] == 6000


@pytest.mark.parametrize("epoch_s", [3, 0.5])  # an epoch under a second is measured too
def test_each_epoch_tells_the_market_what_each_demand_sent(epoch_s):
    from controller.planner import FileMarket

    class Recording(FileMarket):
        def __init__(self, scenario):
            super().__init__(scenario)
            self.usage = []

        def measured(self, epoch, sent_kbps):
            self.usage.append((epoch, sent_kbps))

    market = Recording(S)
    core = ControllerCore(S, make_planner(S, "market", "lmp"), Settings(epoch_s=epoch_s, stats_s=0), market=market)
    west = S.switch["west"].dpid
    core.connected(west, now=0)
    core.flow_stats(west, [], False, now=0)
    plan = core.current.rules.for_switch(west)
    video = next(f for f in plan.flows if f.meter_id is not None
                 and plan.meter_owners.get((west, f.meter_id), ("",) * 3)[1] == "video")
    core.barrier_reply(west, core.switches[west].pending, now=0)
    core.flow_stats(west, [FlowStat(1, video.priority, video.match, video.cookie, 100, kbps_bytes(1500, epoch_s))],
                    False, now=epoch_s * 2 / 3)
    core.tick(now=epoch_s)
    assert market.usage == [(0, {"video": 1500})]
