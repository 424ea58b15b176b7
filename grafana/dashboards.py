"""The three openisp dashboards, from code: Market, Data plane, Benchmarks.

``python -m grafana.build`` writes them to ``grafana/dashboards/*.json``, which
Grafana loads through ``grafana/provisioning`` (no manual import) and which
``openisp report`` renders to PNG.  Rates are shown in bits per second (the
metrics are bytes per second, times 8); money is the market's currency per
epoch; rates are taken over ``$__rate_interval`` (the datasource declares the
1 s scrape interval, so it is at least 4 s).  Every query of every panel is
evaluated against a real Prometheus by the tests (``dataplane.report.dashboards``).
"""
from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from bench.results import FIGURES

from .panels import BENCH, number, query, run_variable, sel, series, variable

__all__ = ["DASHBOARDS", "market", "dataplane", "benchmarks"]

RATE = "$__rate_interval"


def _run_dashboard(uid: str, title: str, description: str) -> Dashboard:
    return (Dashboard(title).uid(uid).description(description).tags(["openisp"]).time("now-30m", "now")
            .refresh("5s").timezone("browser").with_variable(run_variable()))


def market() -> Dashboard:
    demand, link, participant = "$demand", "$link", "$participant"
    return (
        _run_dashboard("openisp-market", "openisp / Market",
                       "Each epoch's clearing: welfare, budget balance, link prices, payments and allocations.")
        .with_variable(variable("participant", sel("openisp_participant_paid_total"), "participant",
                                "Participants whose payments to show."))
        .with_variable(variable("link", sel("openisp_link_price"), "link", "Links whose prices to show."))
        .with_variable(variable("demand", sel("openisp_demand_allocated_bytes_per_second"), "demand",
                                "Demands whose allocations to show."))
        .with_row(Row("Clearing"))
        .with_panel(number("Epoch", "The epoch whose plan is in force.", "none", sel("openisp_market_epoch"), width=4))
        .with_panel(number("Welfare", "Value served minus the asks of the capacity used, per epoch.", "none",
                           sel("openisp_market_welfare"), width=5))
        .with_panel(number("Budget balance", "Payments collected minus paid out, per epoch (negative: a deficit "
                           "the market operator covers, as VCG runs in a two-sided market).", "none",
                           sel("openisp_market_budget_balance"), width=5))
        .with_panel(number("Mean clearing time", "Time one clearing of the market took, on average.", "s",
                           f'sum({sel("openisp_market_clearing_seconds_sum")}) / '
                           f'sum({sel("openisp_market_clearing_seconds_count")})', width=5))
        .with_panel(number("Mean wait for a plan", "Time from asking for a clearing to its plan being ready, on "
                           "average (clearing runs in the background; the switches are served meanwhile).", "s",
                           f'sum({sel("openisp_market_clearing_wait_seconds_sum")}) / '
                           f'sum({sel("openisp_market_clearing_wait_seconds_count")})', width=5))
        .with_panel(series("Welfare and budget balance", "Per epoch, in the market's currency.", "none",
                           query(sel("openisp_market_welfare"), "welfare", "A"),
                           query(sel("openisp_market_budget_balance"), "budget balance", "B")))
        .with_panel(series("Epochs and re-plans", "The epoch in force, and the plans made so far by cause "
                           "(start, epoch, link down or up, market event).", "none",
                           query(sel("openisp_market_epoch"), "epoch", "A"),
                           query(f'sum by (reason) ({sel("openisp_replans_total")})', "re-plans: {{reason}}", "B")))
        .with_row(Row("Prices and payments"))
        .with_panel(series("Link prices", "Each link's price per Mbps per epoch, in its busier direction.", "none",
                           query(sel("openisp_link_price", link=link), "{{link}}"), width=24))
        .with_panel(series("Paid", "Money each participant paid, over all epochs so far.", "none",
                           query(sel("openisp_participant_paid_total", participant=participant), "{{participant}}")))
        .with_panel(series("Received", "Money each participant received, over all epochs so far.", "none",
                           query(sel("openisp_participant_received_total", participant=participant),
                                 "{{participant}}")))
        .with_row(Row("Allocations"))
        .with_panel(series("Allocated per demand", "The rate the market allocated to each demand (real rate, "
                           "before emulation.scale).", "bps",
                           query(f'8 * {sel("openisp_demand_allocated_bytes_per_second", demand=demand)}',
                                 "{{demand}}"), min_value=0))
        .with_panel(series("Paths per demand", "Paths each demand's traffic is spread over.", "none",
                           query(sel("openisp_demand_paths", demand=demand), "{{demand}}"), min_value=0))
        .with_panel(series("Allocated per link, against capacity", "The rate allocated on each link in its "
                           "busier direction, and its capacity per direction.", "bps",
                           query(f'8 * {sel("openisp_link_allocated_bytes_per_second", link=link)}',
                                 "{{link}} allocated", "A"),
                           query(f'8 * {sel("openisp_link_capacity_bytes_per_second", link=link)}',
                                 "{{link}} capacity", "B"), width=24, min_value=0))
        .build())


def dataplane() -> Dashboard:
    demand, link = "$demand", "$link"
    received = f'rate({sel("openisp_demand_received_bytes_total", demand=demand)}[{RATE}])'
    transmit = f'rate({sel("openisp_link_transmit_bytes_total", link=link)}[{RATE}])'
    lost = f'rate({sel("openisp_demand_lost_packets_total", demand=demand)}[{RATE}])'
    got = f'rate({sel("openisp_demand_received_packets_total", demand=demand)}[{RATE}])'
    return (
        _run_dashboard("openisp-dataplane", "openisp / Data plane",
                       "What the switches and the receivers measured: links against their capacity, each "
                       "demand against its allocation, drops, loss and delay.")
        .with_variable(variable("link", sel("openisp_link_capacity_bytes_per_second"), "link", "Links to show."))
        .with_variable(variable("demand", sel("openisp_demand_allocated_bytes_per_second"), "demand",
                                "Demands to show."))
        .with_row(Row("Switches"))
        .with_panel(number("Switches connected", "Switches connected to the controller.", "none",
                           sel("openisp_switches_connected")))
        .with_panel(number("Switches holding the plan", "Switches that hold the plan in force.", "none",
                           f'sum({sel("openisp_switch_holding_plan")})'))
        .with_panel(number("Links down", "Links out of service now.", "none",
                           f'count({sel("openisp_link_up")} == 0) or vector(0)'))
        .with_panel(number("Failovers", "Links that went down and were planned around, so far.", "none",
                           f'sum({sel("openisp_failovers_total")}) or vector(0)'))
        .with_panel(series("Links up", "1 while a link is in service, 0 while it is down.", "none",
                           query(sel("openisp_link_up", link=link), "{{link}}"), min_value=0))
        .with_panel(series("Rule install time", "Mean time from sending a plan to a switch to its barrier "
                           "reply, per switch.", "s",
                           query(f'{sel("openisp_rule_install_seconds_sum")} / '
                                 f'{sel("openisp_rule_install_seconds_count")}', "{{switch}}"), min_value=0))
        .with_row(Row("Links"))
        .with_panel(series("Link throughput, against capacity", "Bits per second sent over each link in each "
                           "direction (from the sending switch's port), and the link's capacity.", "bps",
                           query(f"8 * {transmit}", "{{direction}}", "A"),
                           query(f'8 * {sel("openisp_link_capacity_bytes_per_second", link=link)}',
                                 "{{link}} capacity", "B"), min_value=0))
        .with_panel(series("Link utilisation", "Throughput over capacity, per link and direction.",
                           "percentunit",
                           query(f'{transmit} / on (run, link) group_left '
                                 f'{sel("openisp_link_capacity_bytes_per_second", link=link)}', "{{direction}}"),
                           min_value=0))
        .with_row(Row("Demands"))
        .with_panel(series("Received, against allocated", "What each demand's receivers got, what the market "
                           "allocated it, and what its ingress switch classified.", "bps",
                           query(f"8 * {received}", "{{demand}} received", "A"),
                           query(f'8 * {sel("openisp_demand_allocated_bytes_per_second", demand=demand)}',
                                 "{{demand}} allocated", "B"),
                           query(f'8 * rate({sel("openisp_demand_forwarded_bytes_total", demand=demand)}[{RATE}])',
                                 "{{demand}} at ingress", "C"), min_value=0))
        .with_panel(series("Received over allocated", "The promise: 100% when a demand gets its allocation "
                           "(demands with an allocation).", "percentunit",
                           query(f'{received} / on (run, demand) '
                                 f'({sel("openisp_demand_allocated_bytes_per_second", demand=demand)} > 0)',
                                 "{{demand}}"), min_value=0))
        .with_panel(series("Packets at the ingress", "Packets per second of each demand its ingress switch "
                           "classified, sent through its meters, and the meters dropped (above the allocation).",
                           "pps",
                           query(f'rate({sel("openisp_demand_forwarded_packets_total", demand=demand)}[{RATE}])',
                                 "{{demand}} classified", "A"),
                           query(f'rate({sel("openisp_demand_metered_packets_total", demand=demand)}[{RATE}])',
                                 "{{demand}} metered", "B"),
                           query(f'rate({sel("openisp_demand_meter_dropped_packets_total", demand=demand)}[{RATE}])',
                                 "{{demand}} dropped", "C"), min_value=0))
        .with_panel(series("Loss at the receivers", "Packets missing from each demand's sequence numbers, over "
                           "those expected.", "percentunit",
                           query(f"{lost} / ({got} + {lost})", "{{demand}}"), min_value=0))
        .with_panel(series("One-way delay", "Mean and 99th percentile one-way delay per demand.", "s",
                           query(sel("openisp_demand_delay_seconds", demand=demand), "{{demand}} mean", "A"),
                           query(sel("openisp_demand_delay_p99_seconds", demand=demand), "{{demand}} p99", "B"),
                           min_value=0))
        .with_panel(series("Jitter", "Mean jitter per demand.", "s",
                           query(sel("openisp_demand_jitter_seconds", demand=demand), "{{demand}}"), min_value=0))
        .build())


GRAFANA_UNITS = {"seconds": "s", "ratio": "none", "packets_per_second": "pps"}


def benchmarks() -> Dashboard:
    """One panel per figure of :data:`bench.results.FIGURES`, each benchmark run a point."""
    d = (Dashboard("openisp / Benchmarks").uid("openisp-benchmarks").tags(["openisp", "bench"])
         .description("Every figure `make bench` records, over the runs (bench/load.py loads them).")
         .time("now-90d", "now").timezone("browser"))
    for bench in dict.fromkeys(f.benchmark for f in FIGURES):
        d = d.with_row(Row(f"bench/{bench}.py"))
        for f in (f for f in FIGURES if f.benchmark == bench):
            legend = ", ".join(f"{label} {{{{{label}}}}}" for label in f.labels) or f.name
            # one sample per run: each step shows the run that fell in it
            title = f"{f.benchmark}: {f.name.replace('_', '/')} ({f.unit.replace('_', ' ')})"
            d = d.with_panel(series(title, f.help, GRAFANA_UNITS[f.unit],
                                    query(f"last_over_time({f.metric}[$__interval])", legend),
                                    datasource=BENCH, points=True))
    return d.build()


#: file name under grafana/dashboards -> what builds it
DASHBOARDS = {"market.json": market, "dataplane.json": dataplane, "benchmarks.json": benchmarks}
