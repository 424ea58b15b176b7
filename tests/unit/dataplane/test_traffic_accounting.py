"""Receiver accounting fed synthetic arrivals: loss, reordering, duplicates, delay, jitter, bins."""
import pytest

from dataplane.traffic.accounting import FlowAccount, coarse_histogram, merge_histograms, percentile_us

MS = 1_000_000
S = 1_000_000_000


def feed(arrivals, bins=3, start=0, bound=10**6):
    """arrivals: (seq, sent_ns, arrival_ns); every frame 1200 bytes."""
    account = FlowAccount(start_ns=start, bins=bins, seq_bound=bound)
    for seq, sent, arrived in arrivals:
        account.add(1200, seq, sent, arrived)
    return account.summary()


def in_order(seqs, delay=MS):
    return [(s, s * MS, s * MS + delay) for s in seqs]


def test_in_order_stream_has_no_loss():
    s = feed(in_order(range(100)))
    assert (s["packets"], s["bytes"], s["distinct"], s["lost"], s["reordered"], s["duplicates"]) == \
        (100, 120_000, 100, 0, 0, 0)


def test_loss_counts_gaps_below_the_highest_sequence_number():
    s = feed(in_order([0, 1, 3, 4, 7]))
    assert s["lost"] == 3 and s["packets"] == 5


def test_reordered_frames_fill_their_gap():
    s = feed([(0, 0, 1 * MS), (2, 2 * MS, 3 * MS), (1, 1 * MS, 4 * MS), (3, 3 * MS, 5 * MS)])
    assert (s["lost"], s["reordered"], s["duplicates"]) == (0, 1, 0)


def test_duplicates_are_counted_apart_and_never_make_loss_negative():
    s = feed(in_order([0, 1, 1, 2, 2, 2]))
    assert (s["packets"], s["distinct"], s["duplicates"], s["lost"], s["reordered"]) == (6, 3, 3, 0, 0)
    assert s["bytes"] == 6 * 1200  # they used the link


def test_duplicate_of_a_reordered_frame():
    s = feed(in_order([0, 3, 1, 1]))
    assert (s["lost"], s["reordered"], s["duplicates"]) == (1, 1, 1)


def test_sequence_numbers_beyond_the_bound_are_ignored():
    s = feed(in_order([0, 1]) + [(10**9, 0, MS)], bound=1000)
    assert (s["packets"], s["invalid"], s["lost"]) == (2, 1, 0)


def test_bitmap_grows_for_long_flows():
    s = feed(in_order([0, 5_000_000, 4_999_999]), bound=10**7)
    assert (s["lost"], s["reordered"]) == (4_999_998, 1)


def test_rfc3550_jitter_by_hand():
    # transit times 10, 12, 10, 15 ms -> D = 2, 2, 5 ms
    # J = 0 + (2 - 0)/16 = 0.125; + (2 - 0.125)/16 = 0.2421875; + (5 - 0.2421875)/16 = 0.53955078125
    s = feed([(0, 0, 10 * MS), (1, 20 * MS, 32 * MS), (2, 40 * MS, 50 * MS), (3, 60 * MS, 75 * MS)])
    assert s["jitter_ms"] == pytest.approx(0.53955078125, abs=1e-12)


def test_jitter_follows_arrival_order_not_sequence_order():
    # same transits as above, but frame 2 arrives before frame 1
    s = feed([(0, 0, 10 * MS), (2, 40 * MS, 50 * MS), (1, 20 * MS, 52 * MS), (3, 60 * MS, 75 * MS)])
    # transits in arrival order 10, 10, 32, 15 -> D = 0, 22, 17
    j = 0.0
    for d in (0, 22, 17):
        j += (d - j) / 16
    assert s["jitter_ms"] == pytest.approx(j)


def test_delay_mean_percentiles_and_max():
    # delays 10, 20, ..., 1000 us, shuffled
    delays = [10 * i for i in range(1, 101)]
    order = delays[50:] + delays[:50]
    s = feed([(k, k * MS, k * MS + d * 1000) for k, d in enumerate(order)])
    assert s["delay_ms"] == {"mean": pytest.approx(0.505), "p50": 0.5, "p99": 0.99, "max": 1.0}


def test_large_delays_keep_three_significant_digits():
    s = feed([(k, 0, (100 + k) * MS + 123_456) for k in range(100)])  # 100.123 .. 199.123 ms
    assert s["delay_ms"]["p50"] == pytest.approx(149.123456, rel=5e-4)
    assert s["delay_ms"]["max"] == pytest.approx(199.123456)


def test_one_second_bins_from_the_common_start():
    start = 5 * S
    arrivals = [(0, start, start - MS),  # before the start: first bin
                (1, start, start + S // 2), (2, start, start + 6 * S // 5), (3, start, start + 17 * S // 10),
                (4, start, start + 29 * S // 10), (5, start, start + 9 * S)]  # after: last bin
    s = feed(arrivals, bins=3, start=start)
    assert s["bins"]["packets"] == [2, 2, 2]
    assert s["bins"]["bytes"] == [2400, 2400, 2400]
    assert s["first_s"] == pytest.approx(-0.001) and s["last_s"] == pytest.approx(9.0)


def test_an_empty_flow_summarises_to_nothing():
    s = feed([])
    assert s["packets"] == 0 and s["lost"] == 0 and s["delay_ms"]["p50"] is None and s["first_s"] is None


def test_percentiles_are_nearest_rank():
    hist = {1: 50, 2: 49, 3: 1}
    assert [percentile_us(hist, p) for p in (1, 50, 51, 99, 100)] == [1, 1, 2, 2, 3]
    assert [percentile_us({1: 1, 2: 1, 3: 1}, p) for p in (33, 34, 50, 67, 99)] == [1, 2, 2, 3, 3]
    with pytest.raises(ValueError):
        percentile_us({}, 50)


def test_coarse_histograms_merge_within_one_percent():
    fine = {100: 1, 101: 2, 5000: 3, 123_456: 4}
    coarse = coarse_histogram(fine)
    assert sum(n for _, n in coarse) == 10
    assert [us for us, _ in coarse] == [100, 101, 4992, 123_392]
    merged = merge_histograms([coarse, [[100, 5]]])
    assert merged[100] == 6 and sum(merged.values()) == 15


def test_arrivals_after_the_cut_are_late_and_counted_nowhere_else():
    account = FlowAccount(start_ns=0, bins=3, seq_bound=10**6, until_ns=2 * S)
    for seq, sent, arrived in [(0, 0, MS), (1, S, S + MS), (2, int(1.9 * S), 2 * S), (3, int(1.95 * S), 2 * S + 1)]:
        account.add(1200, seq, sent, arrived)
    s = account.summary()
    assert (s["packets"], s["bytes"], s["distinct"], s["late"]) == (3, 3600, 3, 1)
    assert s["bins"]["bytes"] == [1200, 1200, 1200] and s["delay_ms"]["max"] == pytest.approx(100.0)
    assert feed(in_order(range(5)))["late"] == 0  # no cut: nothing is late


def test_udp_keeps_a_grace_after_its_stop_and_tcp_none():
    from dataplane.traffic.accounting import LATE_S, late_after_ns
    assert late_after_ns(5 * S, 3.0, "udp") == 5 * S + round((3.0 + LATE_S) * S) and 0 < LATE_S <= 1.0
    assert late_after_ns(5 * S, 3.0, "tcp") == 8 * S


def test_the_receiver_cuts_each_flow_at_its_own_stop():
    from dataplane.traffic.accounting import LATE_S
    from dataplane.traffic.receiver import Receiver
    from dataplane.traffic.spec import FlowSpec, HostPlan
    common = dict(demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1", dst_ip="198.18.0.2",
                  src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02", src_port=40000, dst_port=5201,
                  rate_kbps=1000, interface="h1-eth0")
    flows = (FlowSpec(flow_id=1, stop_s=3.0, protocol="tcp", **common),
             FlowSpec(flow_id=2, stop_s=2.0, protocol="udp", **common))
    receiver = Receiver(HostPlan(host="h2", start_ns=7 * S, deadline_ns=12 * S, seconds=3.0, flows=flows))
    assert receiver.accounts[1].until_ns == 10 * S
    assert receiver.accounts[2].until_ns == 9 * S + round(LATE_S * S)
    receiver.close()


def test_a_generator_whose_start_passes_while_it_checks_does_not_sleep_a_negative_time():
    """The start can pass between the check and the sleep on a busy machine (a CI run's
    generator died of ``sleep length must be non-negative``, and its demand went unmeasured)."""
    from dataplane.traffic.generator import Generator
    from dataplane.traffic.spec import FlowSpec, HostPlan

    flow = FlowSpec(flow_id=1, demand="d", src_host="h1", dst_host="h2", src_ip="198.18.0.1", dst_ip="198.18.0.2",
                    src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02", src_port=40000, dst_port=5201,
                    rate_kbps=1000, interface="h1-eth0", stop_s=3.0)
    start = 7 * S
    ticks = iter([start - 1, start + 10_000_000] + [start + 10 * S] * 50)

    class Go:
        def why(self):
            return ""

    gen = Generator(HostPlan(host="h1", start_ns=start, deadline_ns=start + 5 * S, seconds=3.0, flows=(flow,)),
                    clock=lambda: next(ticks))
    gen.run(Go())  # returns: the deadline has passed
