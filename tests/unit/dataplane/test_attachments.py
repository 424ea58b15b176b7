"""Per-second traffic through a multihomed host's attachments, and the judgement of it
against the plan in force (dataplane/attachments.py)."""
from __future__ import annotations

import itertools

from dataplane.attachments import AttachmentSampler, attachment_problems, chosen, per_second
from topologies.loader import load_scenario

S = load_scenario("topologies/library/multihomed.yaml")
CELL, HOME = ("phone-d", 2), ("phone-d", 3)  # the device's ports: the host's is 1


def test_ports_are_the_device_s_attachment_ports():
    assert S.graph.link_port("phone-d", "ph-cell").number == 2 and S.graph.link_port("phone-d", "ph-home").number == 3


def test_per_second_divides_each_counter_step_by_the_time_between_samples_and_marks_gaps():
    samples = [(0.0, {CELL: (0, 0), HOME: (0, 0)}), (1.0, {CELL: (500_000, 250_000), HOME: (0, 0)}),
               (2.02, {CELL: (500_000, 250_000), HOME: (510_000, 255_000)}),  # late: 1.02 s later
               (4.0, {CELL: (500_000, 250_000), HOME: (510_000, 255_000)})]  # second 3's sample lost
    got = per_second(S, samples)["phone"]
    assert got["ph-cell"] == {"up_kbps_per_s": [2000, 0, None, None], "down_kbps_per_s": [4000, 0, None, None]}
    assert got["ph-home"] == {"up_kbps_per_s": [0, 2000, None, None], "down_kbps_per_s": [0, 4000, None, None]}


def measured(up_cell, up_home):
    return {"phone": {"ph-cell": {"up_kbps_per_s": up_cell, "down_kbps_per_s": [0] * len(up_cell)},
                      "ph-home": {"up_kbps_per_s": up_home, "down_kbps_per_s": [0] * len(up_home)}}}


PLANS = [(-3.0, {"upload": {"ph-cell": 2000}}), (5.2, {"upload": {"ph-home": 2000}})]


def test_traffic_that_follows_the_plan_in_force_breaks_nothing():
    m = measured([2000] * 5 + [900] + [0] * 4, [0] * 5 + [1100] + [2000] * 4)
    assert attachment_problems(S, m, PLANS, [5.2]) == []


def test_traffic_through_an_attachment_the_market_did_not_choose_is_a_broken_promise():
    m = measured([2000] * 10, [0] * 10)  # the switch never moved the upload to ph-home
    got = attachment_problems(S, m, PLANS, [5.2])
    assert [p.split(":")[1] for p in got] == [" second 7", " second 8", " second 9"], got  # 4-6: near the change
    assert "phone: second 7: 2Mbps went up through ph-cell, an attachment the market did not choose " \
           "(ph-home chosen)" == got[0]


def test_a_demand_the_file_does_not_hold_still_has_its_chosen_attachment():
    # "late": added by the timeline or the API, so its ends are unknown here: both directions
    got = chosen(S, {"late": {"ph-home": 500}, "upload": {"ph-cell": 2000}, "video": {"ph-cell": 0}})
    assert got == {("phone", "up"): {"ph-home", "ph-cell"}, ("phone", "down"): {"ph-home"}}


def test_a_trickle_through_the_other_attachment_is_let_pass():
    m = measured([2000, 2000, 99, 2000], [0, 0, 0, 100])  # 99 kbps alone: ARP, pings; 100 of 2100 under 5%
    plans = [(-1.0, {"upload": {"ph-cell": 2000}})]
    assert attachment_problems(S, m, plans, []) == []
    m = measured([2000, 2000, 2000, 2000], [0, 0, 0, 150])
    assert len(attachment_problems(S, m, plans, [])) == 1


def test_the_sampler_reads_the_device_switches_once_a_second_of_the_traffic_clock():
    clock = {"t": 100.0}
    reads = []

    def reader(scenario, switches):
        reads.append(tuple(switches))
        clock["t"] += 0.1 if len(reads) != 3 else 1.6  # the third read is slow: second 3's sample is skipped
        return {CELL: (len(reads) * 1000, 0)}

    def wait(timeout):
        clock["t"] += timeout
        return len(reads) >= 4

    sampler = AttachmentSampler(S, reader, clock=lambda: clock["t"])
    sampler._stop.wait = wait
    sampler._sample(100.0)  # the thread's body, on a fake clock
    assert reads == [("phone-d",)] * 4
    assert [round(t, 1) for t, _ in sampler.samples] == [0.1, 1.1, 3.6, 4.1]
