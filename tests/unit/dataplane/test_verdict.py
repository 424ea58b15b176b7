"""A run's verdict: allocations, floors, universal floors and failed measurements."""
from __future__ import annotations

from dataplane.verdict import TOLERANCE, Measured, judge
from topologies.loader import load_scenario

S = load_scenario("topologies/library/split.yaml")  # video 7 Mbps, call at its 300 kbps floor, upload 3 Mbps
ALLOCATED = {"video": 7000, "call": 300, "upload": 3000}


def measured(**received) -> dict[str, Measured]:
    return {d: Measured(offered_kbps=2 * ALLOCATED[d], received_kbps=received.get(d, ALLOCATED[d]))
            for d in ALLOCATED}


def test_every_demand_at_its_allocation_keeps_every_promise():
    outcomes, problems = judge(S, ALLOCATED, {}, measured())
    assert problems == [] and all(not o.problems for o in outcomes)


def test_a_demand_short_of_its_allocation_is_named_with_its_share():
    _, problems = judge(S, ALLOCATED, {}, measured(video=3740))
    assert problems == ["video: received 3.74Mbps of its 7Mbps allocation (53%, under 90%)"]


def test_the_tolerance_is_ninety_percent_of_the_allocation():
    assert judge(S, ALLOCATED, {}, measured(video=TOLERANCE * 7000))[1] == []
    assert judge(S, ALLOCATED, {}, measured(video=TOLERANCE * 7000 - 1))[1]


def test_a_missed_floor_is_its_own_problem():
    _, problems = judge(S, ALLOCATED, {}, measured(call=97))
    assert "call: floor of 300kbps not met: received 97kbps" in problems


def test_a_host_below_its_universal_floor_is_named():
    s = load_scenario("topologies/default.yaml")  # universal floor 200 kbps
    allocated = {d.id: 1000 for d in s.demands}
    got = {d.id: Measured(2000, 1000.0) for d in s.demands}
    got["ana-dev"] = Measured(2000, 150.0)  # h1 sends only ana-dev
    _, problems = judge(s, allocated, {}, got)
    assert "host h1: universal floor of 200kbps not met: its demands received 150kbps" in problems


def test_a_failed_measurement_breaks_the_run():
    got = measured()
    got["upload"] = Measured(6000, None, error="receiver s1: no report")
    _, problems = judge(S, ALLOCATED, {}, got)
    assert problems == ["upload: measurement failed: receiver s1: no report"]


def test_an_offer_below_the_allocation_is_judged_against_the_offer():
    got = measured()
    got["video"] = Measured(offered_kbps=5000, received_kbps=4800.0)  # a host's access link let less out
    assert judge(S, ALLOCATED, {}, got)[1] == []


def test_without_a_market_only_failures_count():
    got = measured(video=10.0)
    outcomes, problems = judge(S, {}, {}, got, market=False)
    assert problems == [] and outcomes[0].allocated_kbps is None


def test_rates_are_judged_as_emulated():
    s = load_scenario("topologies/library/abilene.yaml")  # scale 0.001
    d = s.demands[0]
    got = {d.id: Measured(offered_kbps=8000, received_kbps=3950.0)}
    outcomes, problems = judge(s, {d.id: 4_000_000}, {}, got)
    assert outcomes[0].allocated_kbps == 4000 and problems == []


def test_over_time_each_second_is_judged_against_the_allocation_in_force():
    from dataplane.verdict import judge_over_time

    s = load_scenario("topologies/library/timeline.yaml")
    plans = [(-3.0, {"video": 4000, "bulk": 4000}), (6.0, {"video": 6000})]
    windows = {"video": (0.0, 12.0)}
    good = [4000.0] * 6 + [5000.0] + [6000.0] * 5
    ok = {"video": Measured(12000, 5000.0, received_kbps_per_s=tuple(good))}
    assert judge_over_time(s, ok, {}, windows, plans, [6.0]) == []
    stuck = {"video": Measured(12000, 4000.0, received_kbps_per_s=tuple([4000.0] * 12))}  # never rose
    (problem,) = judge_over_time(s, stuck, {}, windows, plans, [6.0])
    # Seconds 8, 9 and 10 are judged against 6 Mbps (5 precedes the change, 7 follows it; 11 is the last).
    assert problem == "video: under 90% of its allocation in 3 of 7 seconds (worst: second 8, 4Mbps of 6Mbps)"


def test_over_time_the_seconds_around_a_change_and_outside_the_window_are_not_judged():
    from dataplane.verdict import judge_over_time

    s = load_scenario("topologies/library/timeline.yaml")
    plans = [(-1.0, {"video": 6000})]
    dip = [6000.0] * 10
    dip[3] = dip[4] = dip[5] = 100.0  # a cut at 4.5 s: seconds 3, 4 and 5 are grace
    m = {"video": Measured(12000, 5000.0, received_kbps_per_s=tuple(dip))}
    assert judge_over_time(s, m, {}, {"video": (0.0, 10.0)}, plans, [4.5]) == []
    assert judge_over_time(s, m, {}, {"video": (0.0, 10.0)}, plans, [8.5])  # no change near: broken
    late = {"video": Measured(12000, 5000.0, received_kbps_per_s=(0.0,) * 5 + (6000.0,) * 5)}
    assert judge_over_time(s, late, {}, {"video": (5.0, 10.0)}, plans, []) == []  # not sending before 5 s


def test_losses_beyond_the_meters_drops_are_blamed_on_the_emulation():
    from dataplane.verdict import EMULATION_LOSS, emulation_losses, meter_drops
    status = {"counters": {"demands": {
        "a": {"path 0 meter": {"dropped_packets": 300, "packets": 900}, "path 1 meter": {"dropped_packets": 200}},
        "b": {"path 0 meter": {"dropped_packets": 50}, "flows": {"dropped_packets": 7}}}}}
    assert meter_drops(status) == {"a": 500, "b": 50} and meter_drops({}) == {}
    m = {"a": Measured(2000, 800, packets_sent=1000, packets_lost=560),
         "b": Measured(500, 400, packets_sent=1000, packets_lost=50),
         "c": Measured(500, None, error="no result")}
    # 610 lost, 550 dropped by the meters: 3% of 2,000 sent, within the 5% allowed
    assert EMULATION_LOSS == 0.05 and emulation_losses(m, {}, meter_drops(status)) is None
    # drops counted before the traffic are not this traffic's
    note = emulation_losses(m, {"a": 100}, meter_drops(status))
    assert note.startswith("the receivers lost 30.5% of the packets sent, the ingress meters dropped 22.5%: 8.0% was")


def test_over_time_a_demand_whose_traffic_started_late_was_not_measured_and_breaks_the_run():
    from dataplane.verdict import LATE_START_S, judge_over_time

    s = load_scenario("topologies/library/timeline.yaml")
    plans = [(-1.0, {"video": 6000})]

    def sent_from(first_s: float) -> dict:  # a 3 s run: little is left to judge after a late start
        return {"video": Measured(12000, 600.0, received_kbps_per_s=(0.0, 0.0, 1800.0),
                                  sending_from_s=first_s)}

    (problem,) = judge_over_time(s, sent_from(2.2), {}, {"video": (0.0, 3.0)}, plans, [])
    assert problem == "video: its traffic started 2.2 s late, so its 3 s were not measured " \
                      "(its generator could not start in time)"
    assert judge_over_time(s, sent_from(LATE_START_S), {}, {"video": (0.0, 3.0)}, plans, []) == []
    assert judge_over_time(s, sent_from(LATE_START_S + 0.01), {}, {"video": (0.0, 3.0)}, plans, [])
    # late against its own window (a demand the timeline adds at 5 s), or one that won nothing: not a problem
    assert judge_over_time(s, sent_from(5.3), {}, {"video": (5.0, 8.0)}, plans, []) == []
    assert judge_over_time(s, sent_from(2.2), {}, {"video": (0.0, 3.0)}, [(-1.0, {"video": 0})], []) == []
