"""The core's Prometheus metrics and its market source: what each decision and each
switch counter does to them, read back from the registry by name and label."""
from __future__ import annotations

from controller.core import ControllerCore, FlowStat, MeterStat, PortStat, Settings
from controller import cookies
from controller.errors import ControllerError
from controller.planner import FileMarket, make_planner
from topologies.loader import load_scenario

S = load_scenario("topologies/library/failover.yaml")
WEST, R1 = S.switch["west"].dpid, S.switch["r1"].dpid
BYTES = 1000 / 8  # kbps -> bytes per second


class Recording(FileMarket):
    """The scenario's market, recording what the core tells it; ``fail`` makes one call raise."""

    def __init__(self, scenario, fail: str = ""):
        super().__init__(scenario)
        self.fail, self.cleared_calls, self.measured_calls = fail, [], []

    def cleared(self, epoch, scenario, result):
        if self.fail == "cleared":
            raise ControllerError("ledger full")
        self.cleared_calls.append((epoch, scenario, result))

    def measured(self, epoch, sent_kbps):
        if self.fail == "measured":
            raise ControllerError("ledger closed")
        self.measured_calls.append((epoch, sent_kbps))


def core(scenario=S, epoch_s: float = 0.0, source=None) -> ControllerCore:
    return ControllerCore(scenario, make_planner(scenario, "market", "lmp"), Settings(epoch_s, 0.0), market=source)


def sample(c: ControllerCore, name: str, **labels) -> float | None:
    return c.metrics.registry.get_sample_value(name, labels)


def up(c: ControllerCore, dpid: int, now: float = 0.0, acked: float | None = None) -> list:
    c.connected(dpid, now=now)
    ops = c.flow_stats(dpid, [], False, now=now)[dpid]
    c.barrier_reply(dpid, ops[-1].token, now=now if acked is None else acked)
    return ops


def test_every_link_starts_in_service_at_its_capacity():
    c = core()
    for link in S.links:
        assert sample(c, "openisp_link_capacity_bytes_per_second", link=link.id) == link.capacity_kbps * BYTES
        assert sample(c, "openisp_link_up", link=link.id) == 1


def test_a_plan_shows_its_allocations_paths_prices_payments_and_clearing():
    source = Recording(S)
    c = core(source=source)
    plan, result = c.current, c.current.result
    assert source.cleared_calls == [(0, S, result)]
    assert sample(c, "openisp_market_epoch") == 0
    assert sample(c, "openisp_replans_total", reason="start") == 1
    for d in S.demands:
        assert sample(c, "openisp_demand_allocated_bytes_per_second", demand=d.id) == plan.allocated_kbps[d.id] * BYTES
        assert sample(c, "openisp_demand_paths", demand=d.id) == len(plan.path_kbps[d.id])
    assert sample(c, "openisp_market_welfare") == float(result.welfare) > 0
    assert sample(c, "openisp_market_budget_balance") == float(result.budget_balance)
    assert sample(c, "openisp_market_clearing_seconds_count") == 1
    assert sample(c, "openisp_market_clearing_seconds_sum") == result.timings["total_s"]
    # how long the core waited for it: at least the clearing, and not a clock reading
    assert result.timings["total_s"] <= sample(c, "openisp_market_clearing_wait_seconds_sum") < 10
    assert any(link.allocated_kbps for link in result.links)
    for link in result.links:
        assert sample(c, "openisp_link_allocated_bytes_per_second", link=link.link_id) == link.allocated_kbps * BYTES
        assert sample(c, "openisp_link_price", link=link.link_id) == float(link.price_per_mbps)
    assert any(p.pays for p in result.participants) and any(p.receives for p in result.participants)
    for p in result.participants:
        assert sample(c, "openisp_participant_paid_total", participant=p.name) == float(p.pays)
        assert sample(c, "openisp_participant_received_total", participant=p.name) == float(p.receives)


def test_payments_add_up_over_epochs_and_replans_are_counted_by_cause():
    source = Recording(S)
    c = core(epoch_s=10, source=source)
    up(c, WEST)
    c.tick(now=10)
    c.port_status(R1, S.graph.link_port("r1", "fast").number, True, now=11)
    assert [epoch for epoch, _, _ in source.cleared_calls] == [0, 1, 2] and sample(c, "openisp_market_epoch") == 2
    assert [sample(c, "openisp_replans_total", reason=r) for r in ("start", "epoch", "link")] == [1, 1, 1]
    assert sample(c, "openisp_market_clearing_seconds_count") == 3
    for p in S.participants:
        paid = [float(q.pays) for _, _, r in source.cleared_calls for q in r.participants if q.name == p.name]
        assert sample(c, "openisp_participant_paid_total", participant=p.name) == sum(paid)


def test_a_settlement_that_fails_leaves_the_plan_and_says_why():
    c = core(source=Recording(S, fail="cleared"))
    assert c.current.allocated_kbps and c.status.snapshot()["notes"] == ["epoch 0: not settled: ledger full"]


def test_links_going_down_count_a_failover_and_show_the_link_out_of_service():
    c = core()
    up(c, R1)
    port = S.graph.link_port("r1", "fast").number
    c.port_status(R1, port, True, now=1)
    assert sample(c, "openisp_link_up", link="fast") == 0
    assert sample(c, "openisp_failovers_total", link="fast") == 1
    c.port_status(R1, port, False, now=2)
    assert sample(c, "openisp_link_up", link="fast") == 1
    assert sample(c, "openisp_failovers_total", link="fast") == 1
    assert sample(c, "openisp_failovers_total", link="via1") is None


def test_switches_connected_holding_and_the_time_their_installs_took():
    c = core(epoch_s=10)
    up(c, WEST, now=2.0, acked=2.5)
    assert sample(c, "openisp_switches_connected") == 1
    assert sample(c, "openisp_switch_holding_plan", switch="west") == 1
    assert sample(c, "openisp_rule_install_seconds_count", switch="west") == 1
    assert sample(c, "openisp_rule_install_seconds_sum", switch="west") == 0.5
    moved = c.tick(now=10)[WEST]
    assert sample(c, "openisp_switch_holding_plan", switch="west") == 0  # sent, not yet acknowledged
    c.barrier_reply(WEST, moved[-1].token, now=9.0)  # a clock that went back counts no negative time
    assert sample(c, "openisp_rule_install_seconds_sum", switch="west") == 0.5
    assert sample(c, "openisp_rule_install_seconds_count", switch="west") == 2
    up(c, R1)
    assert sample(c, "openisp_switches_connected") == 2
    c.disconnected(WEST, now=12)
    assert sample(c, "openisp_switches_connected") == 1
    assert sample(c, "openisp_switch_holding_plan", switch="west") == 0
    assert sample(c, "openisp_switch_holding_plan", switch="r1") == 1


def test_link_bytes_grow_by_what_each_port_sent_even_across_a_counter_reset():
    c = core()
    up(c, WEST)
    port = S.graph.link_port("west", "up-w").number
    for tx in (1000, 1500, 200):
        c.port_stats(WEST, [PortStat(port, 0, 0, 0, tx)], now=5)
    assert sample(c, "openisp_link_transmit_bytes_total", link="up-w", direction="west>r1") == 1700
    assert sample(c, "openisp_link_transmit_bytes_total", link="up-w", direction="r1>west") is None
    # Each port keeps its own count: two ports in one reply, twice.
    second = S.graph.link_port("west", "up-w2").number
    for tx, tx2 in ((2000, 300), (2600, 700)):
        c.port_stats(WEST, [PortStat(port, 0, 0, 0, tx), PortStat(second, 0, 0, 0, tx2)], now=6)
    assert sample(c, "openisp_link_transmit_bytes_total", link="up-w", direction="west>r1") == 1700 + 2600 - 200
    assert sample(c, "openisp_link_transmit_bytes_total", link="up-w2", direction="west>r3") == 700


def demand_meter_and_flow(c: ControllerCore, dpid: int, demand: str):
    plan = c.current.rules.for_switch(dpid)
    meter = next(m for (_, m), owner in plan.meter_owners.items() if owner[:2] == ("demand", demand))
    return meter, next(f for f in plan.flows if f.meter_id == meter and f.priority == 100)


def test_a_demand_s_meter_and_flow_counters_become_totals_by_demand():
    c = core()
    up(c, WEST)
    meter, flow = demand_meter_and_flow(c, WEST, "w1-e1")
    floor = next(m for (_, m), owner in c.current.rules.for_switch(WEST).meter_owners.items() if owner[0] == "floor")
    other_meter, _ = demand_meter_and_flow(c, WEST, "w2-e2")  # each meter's readings are its own
    for packets, dropped in ((10, 3), (15, 4)):
        c.meter_stats(WEST, [MeterStat(meter, packets, packets * 100, dropped), MeterStat(floor, 99, 99, 99),
                             MeterStat(other_meter, packets - 8, 0, dropped - 2)], now=5)
    assert sample(c, "openisp_demand_metered_packets_total", demand="w1-e1") == 15
    assert sample(c, "openisp_demand_meter_dropped_packets_total", demand="w1-e1") == 4
    assert sample(c, "openisp_demand_metered_packets_total", demand="w2-e2") == 7
    assert sample(c, "openisp_demand_meter_dropped_packets_total", demand="w2-e2") == 2
    for packets in (40, 42):
        c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, packets, packets * 100)],
                     False, now=5)
    assert sample(c, "openisp_demand_forwarded_packets_total", demand="w1-e1") == 42
    assert sample(c, "openisp_demand_forwarded_bytes_total", demand="w1-e1") == 4200
    assert c.usage["bytes"] == {"w1-e1": 4200} and c.usage["dropped"] == {"w1-e1": 4, "w2-e2": 2}
    # Packets and bytes, and each flow, are counted apart: a second flow of the demand
    # (same cookie, another match) in the same reply, then both grow.
    other = FlowStat(flow.table_id, flow.priority + 1, flow.match, flow.cookie, 0, 0)
    for packets, more in ((50, 7), (60, 9)):
        c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, packets, packets * 100),
                            other._replace(packets=more, bytes=more * 1000)], False, now=6)
    assert sample(c, "openisp_demand_forwarded_packets_total", demand="w1-e1") == 60 + 9
    assert sample(c, "openisp_demand_forwarded_bytes_total", demand="w1-e1") == 6000 + 9000


def test_what_each_demand_sent_in_an_epoch_is_handed_to_the_market_source():
    source = Recording(S)
    c = core(epoch_s=10, source=source)
    up(c, WEST)
    _, flow = demand_meter_and_flow(c, WEST, "w1-e1")
    stray = FlowStat(1, 100, (), cookies.make("demand", 0, len(S.demands)), 5, 5000)  # no such demand
    c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, 100, 250_000), stray],
                 False, now=4)
    c.tick(now=10)
    assert source.measured_calls == [(0, {"w1-e1": 200})]  # 250 kB in 10 s: 200 kbps
    c.tick(now=20)  # nothing sent in the second epoch: nothing to record
    assert source.measured_calls == [(0, {"w1-e1": 200})] and c.usage["since"] == 20
    # The third epoch (20 to 30 s) sends 125 kB more: 100 kbps over its own 10 s.
    c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, 150, 375_000)],
                 False, now=25)
    c.tick(now=30)
    assert source.measured_calls[-1][1] == {"w1-e1": 100}


def test_usage_is_scaled_back_to_real_rates_and_a_refusal_is_noted():
    from dataclasses import replace

    half = replace(S, emulation=replace(S.emulation, scale=0.5))
    c = core(half, epoch_s=10, source=Recording(half, fail="measured"))
    up(c, WEST)
    _, flow = demand_meter_and_flow(c, WEST, "w1-e1")
    c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, 100, 250_000)], False, now=4)
    c.tick(now=10)
    assert c.status.snapshot()["notes"] == ["epoch 0: usage not recorded: ledger closed"]
    source = Recording(half)
    c = core(half, epoch_s=10, source=source)
    up(c, WEST)
    c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, 100, 250_000)], False, now=4)
    c.tick(now=10)
    assert source.measured_calls == [(0, {"w1-e1": 400})]


def test_the_closed_loop_bids_what_each_demand_was_measured_to_want():
    loop = load_scenario("topologies/library/closedloop.yaml")  # one 6 Mbps link; bulk's floor 200 kbps
    west = loop.switch["west"].dpid
    c = core(loop, epoch_s=3)
    up(c, west)
    assert c.bids == {} and c.current.allocated_kbps["bulk"] == 4000
    _, bulk = demand_meter_and_flow(c, west, "bulk")
    poll = lambda nbytes, now: c.flow_stats(  # noqa: E731
        west, [FlowStat(bulk.table_id, bulk.priority, bulk.match, bulk.cookie, 1, nbytes)], False, now=now)
    poll(187_500, now=1)  # 500 kbps over the 3 s epoch: well below its 4 Mbps
    c.tick(now=3)
    # bulk bids what it sent plus a quarter; video never sent: its max
    assert c.bids == c.status.bids == {"video": 6000, "bulk": 625} and c.ever_sent == {"bulk"}
    assert sample(c, "openisp_demand_bid_bytes_per_second", demand="bulk") == 625 * BYTES
    assert sample(c, "openisp_demand_bid_bytes_per_second", demand="video") == 6000 * BYTES
    assert c.market.demand["bulk"].max_kbps == 625 and c.current.allocated_kbps == {"video": 5375, "bulk": 625}
    poll(2_250, now=4)  # 6 kbps: too little to count as sending, but bulk was seen sending before
    c.tick(now=6)
    assert c.bids == {"video": 6000, "bulk": 200} and c.ever_sent == {"bulk"}  # never below its floor


def test_declared_demand_takes_no_bids_from_traffic():
    c = core(epoch_s=10)
    up(c, WEST)
    _, flow = demand_meter_and_flow(c, WEST, "w1-e1")
    c.flow_stats(WEST, [FlowStat(flow.table_id, flow.priority, flow.match, flow.cookie, 1, 1000)], False, now=4)
    c.tick(now=10)
    assert c.bids == {} and c.ever_sent == set() and c.market is S
    assert sample(c, "openisp_demand_bid_bytes_per_second", demand="w1-e1") is None


def test_a_withdrawn_demand_is_shown_allocated_nothing_and_timeline_plans_are_counted():
    timeline = load_scenario("topologies/library/timeline.yaml")  # bulk withdrawn at 6 s, late added at 20 s
    c = core(timeline)
    assert sample(c, "openisp_demand_allocated_bytes_per_second", demand="bulk") > 0
    c.start_timeline(0.0, now=0.0)
    c.tick(now=6)
    assert sample(c, "openisp_demand_allocated_bytes_per_second", demand="bulk") == 0
    assert sample(c, "openisp_demand_paths", demand="bulk") == 0
    assert sample(c, "openisp_demand_allocated_bytes_per_second", demand="late") is None
    c.tick(now=20)
    assert sample(c, "openisp_demand_allocated_bytes_per_second", demand="late") == \
        c.current.allocated_kbps["late"] * BYTES > 0
    assert sample(c, "openisp_replans_total", reason="timeline") == 2
