from dataplane.runner import format_table
from dataplane.verdict import Measured, judge
from topologies.loader import load_scenario

S = load_scenario("topologies/default.yaml")


def test_table_has_a_row_per_demand_with_path_rate_and_verdict():
    measured = {"ana-dev": Measured(6000, 2950.4, 1.2), "ben-gus": Measured(4000, None, None, error="timed out")}
    outcomes, _ = judge(S, {"ana-dev": 3000, "ben-gus": 0}, {"ana-dev": [["mn1", "lk1"]]}, measured)
    lines = format_table(outcomes).splitlines()
    assert lines[0].split()[:3] == ["demand", "src", "->"]
    assert "mn1 > lk1" in lines[2] and "2.95Mbps" in lines[2] and "1.2%" in lines[2]
    assert lines[2].split()[7] == "3Mbps" and lines[2].split()[-1] == "ok"  # allocated, and kept
    assert "timed out" in lines[3] and "?" in lines[3] and "none" in lines[3] and lines[3].endswith("BROKEN")


def test_runs_offer_twice_the_allocation_or_the_max_rate():
    from dataplane.traffic_phase import offered_rate

    assert offered_rate(S, S.demand["ana-dev"], {"ana-dev": 2000}) == 4000
    assert offered_rate(S, S.demand["ana-dev"], {}) == S.demand["ana-dev"].max_kbps


def test_runs_offer_no_more_than_the_senders_access_link_carries():
    from dataplane.traffic_phase import offered_rate

    abilene = load_scenario("topologies/library/abilene.yaml")  # uw1: 10 Gbps access, two demands
    alloc = {"uw-nyu": 2_000_000, "uw-cu": 6_000_000}
    offered = {d: offered_rate(abilene, abilene.demand[d], alloc) for d in alloc}
    assert offered == {"uw-nyu": 2_500, "uw-cu": 7_500}  # the 2 Gbps spare, shared by what they want above
    assert offered_rate(abilene, abilene.demand["nyu-rice"], {"nyu-rice": 4_000_000}) == 8_000  # room for twice


def test_scaled_worlds_offer_and_show_emulated_rates():
    from dataplane.traffic_phase import offered_rate

    abilene = load_scenario("topologies/library/abilene.yaml")
    d = abilene.demand["rice-nyu"]
    assert offered_rate(abilene, d, {"rice-nyu": 4_000_000}) == 8_000  # 8 Gbps -> 8 Mbps
