"""The rule plan that enforces the market's allocation, as pure data.

Tables (OpenFlow 1.3):

=====  ==========================================================================
table  what it does
=====  ==========================================================================
0      ARP to the controller; edge ports: the attached host's own MAC and IPv4
       source go on to table 1, anything else is dropped and counted
       (anti-spoofing); link ports: MPLS to table 2, plain IPv4 to table 3
1      ingress classification, on the source host's switch: each path of a
       served demand (IPv4 src, dst) is metered at the rate the market gave
       that path (drop above; times ``emulation.scale``, like the links) and
       sent to its fast-failover group (primary, backup); a demand with
       several paths spreads its UDP and TCP flows over them by the low bits
       of the source port, in proportion to the paths' rates; demands that
       share a host pair are told apart by UDP/TCP destination port; a
       demand's TCP return traffic is never taken for a reverse demand's; every
       other packet of the host is metered at the universal-service floor
       (without one: at the host's share of what the market left unsold,
       :func:`best_effort_rates`) and routed best effort; on the destination host's switch, a served
       demand's TCP acknowledgements are metered at a sixteenth of its
       allocation and routed best effort
2      label switching: forward on the MPLS label; the last switch pops it
3      best effort: IPv4 destination routes along shortest paths (and the last
       hop of labelled traffic, after the pop)
=====  ==========================================================================

Why a meter per path, not one per demand under a select group: a select
group hashes each flow onto one bucket, so one flow of a demand metered at
the demand's whole rate would take one path and overload a link that the
market filled with other demands.  Metering each path at its own rate keeps
the promise whatever the traffic does: a skewed split costs the demand its own
excess, never anyone else's share.

Meter and group ids are allocated per switch (:class:`IdAllocator`), from the
lower half of the id space in even epochs and the upper half in odd ones, so
the next epoch's meters and groups can be installed beside the current ones
before the old are removed.

>>> from topologies.loader import load_scenario
>>> from controller.market import clear_market
>>> from controller.pathing import plan_paths
>>> s = load_scenario("topologies/default.yaml")
>>> plan = market_plan(s, plan_paths(s, clear_market(s, "lmp")))
>>> sorted({f.table_id for f in plan.flows})
[0, 1, 2, 3]
"""
from __future__ import annotations

from typing import Mapping

from topologies.model import Scenario

from . import cookies
from .pathing import PathPlan, Route
from .ruleplan import (
    ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_MPLS, Bucket, FlowEntry, Group, GroupEntry, MeterEntry, Output,
    Match, PopMpls, PushMpls, RulePlan, SetField, ToController, match,
)
from .shortest import host_routes

TABLE_EDGE, TABLE_CLASSIFY, TABLE_LABEL, TABLE_ROUTE = 0, 1, 2, 3
#: Meter and group ids of odd epochs start here (even epochs start at 1), so the
#: next epoch's meters and groups go in beside the current ones.
EPOCH_STRIDE = 1 << 20
#: A meter's burst: 100 ms of its rate (at least one full packet), so short bursts pass.
BURST_MS = 100
#: A split demand's UDP and TCP traffic is spread over its paths by the low
#: bits of the source port: 2**SPLIT_BITS slices, shared out by the paths' rates.
SPLIT_BITS = 6
IP_PROTO_TCP, IP_PROTO_UDP = 6, 17
PRIORITY_DEMAND, PRIORITY_PORT, PRIORITY_SLICE, PRIORITY_RETURN, PRIORITY_FLOOR = 100, 105, 110, 120, 10
#: The protocols whose source port slices a split demand (and whose destination port names a demand).
SLICED = ((IP_PROTO_UDP, "udp_src"), (IP_PROTO_TCP, "tcp_src"))
#: A served demand's TCP acknowledgements are metered at this share of its allocation,
#: at least RETURN_MIN_KBPS (see :func:`demand_rules`).
RETURN_SHARE = 1 / 16
RETURN_MIN_KBPS = 16


class IdAllocator:
    """Meter and group ids, allocated per switch in plan order, from the epoch's half.

    >>> ids = IdAllocator(epoch=1)
    >>> ids.meter(7), ids.meter(7), ids.meter(8), ids.group(7)
    (1048577, 1048578, 1048577, 1048577)
    """

    def __init__(self, epoch: int):
        self.base = (epoch % 2) * EPOCH_STRIDE
        self._next: dict[tuple[str, int], int] = {}

    def _take(self, kind: str, dpid: int) -> int:
        n = self._next.get((kind, dpid), 1)
        self._next[(kind, dpid)] = n + 1
        return self.base + n

    def meter(self, dpid: int) -> int:
        return self._take("meter", dpid)

    def group(self, dpid: int) -> int:
        return self._take("group", dpid)


def _burst(kbps: int) -> int:
    return max(kbps * BURST_MS // 1000, 16)


def slice_counts(kbps: list[int], bits: int = SPLIT_BITS) -> list[int]:
    """How many of the ``2**bits`` source-port slices each path gets: in proportion
    to its rate (largest remainder), at least one each.

    >>> slice_counts([3700, 300, 3000])
    [34, 3, 27]
    """
    total, slots = sum(kbps), 1 << bits
    exact = [k * slots / total for k in kbps]
    counts = [max(1, int(e)) for e in exact]
    order = sorted(range(len(kbps)), key=lambda j: (counts[j] - exact[j], -kbps[j], j))
    j = 0
    while sum(counts) < slots:
        counts[order[j % len(order)]] += 1
        j += 1
    while sum(counts) > slots:  # the minimum of one each took more than the share
        j = max((i for i in range(len(counts)) if counts[i] > 1), key=lambda i: (counts[i] - exact[i], counts[i]))
        counts[j] -= 1
    return counts


def _reverse(value: int, bits: int) -> int:
    return int(format(value, f"0{bits}b")[::-1], 2) if bits else 0


def slice_blocks(counts: list[int], bits: int = SPLIT_BITS) -> list[tuple[int, int, int]]:
    """``(path, value, mask)`` blocks of source-port slices: the fewest flows, interleaved.

    Each path's count is written in powers of two; the blocks, placed largest
    first, tile the ``2**bits`` slices with every block aligned to its size.
    Slices are numbered by the source port's low bits read backwards, so a
    block fixes the port's lowest bits: consecutive source ports (as a
    generator or a client's ephemeral ports give) take turns over the paths
    instead of filling one path first, and any ``2**bits`` consecutive ports
    split exactly by the counts.

    >>> slice_blocks([3, 1], bits=2)  # ports ...00 and ...10, then ...01 to path 0; ...11 to path 1
    [(0, 0, 1), (0, 1, 3), (1, 3, 3)]
    """
    blocks = sorted(((1 << b, j) for j, c in enumerate(counts) for b in range(bits + 1) if c >> b & 1),
                    key=lambda x: (-x[0], x[1]))
    out, offset = [], 0
    for size, j in blocks:
        fixed = bits - (size.bit_length() - 1)  # how many of the port's low bits the block fixes
        out.append((j, _reverse(offset >> (bits - fixed), fixed), (1 << fixed) - 1))
        offset += size
    return out


def _push(scenario: Scenario, route: Route) -> Bucket:
    """Push the route's label and send it out of the route's first link; watch that port."""
    port = scenario.graph.link_port(route.switches[0], route.links[0]).number
    return Bucket((PushMpls(), SetField("mpls_label", route.label), Output(port)), watch_port=port)


def edge_flows(scenario: Scenario, epoch: int) -> list[FlowEntry]:
    graph = scenario.graph
    flows = []
    for sw in scenario.switches:
        flows.append(FlowEntry(sw.dpid, 300, match(eth_type=ETH_TYPE_ARP), (ToController(),), TABLE_EDGE,
                               cookie=cookies.make("arp", epoch)))
    for i, h in enumerate(scenario.hosts):
        dpid, port = scenario.switch[h.switch].dpid, graph.host_port(h.name).number
        flows.append(FlowEntry(dpid, 200, match(in_port=port, eth_src=h.mac, eth_type=ETH_TYPE_IP, ipv4_src=str(h.ip)),
                               (), TABLE_EDGE, goto_table=TABLE_CLASSIFY, cookie=cookies.make("edge", epoch, i)))
        flows.append(FlowEntry(dpid, 150, match(in_port=port), (), TABLE_EDGE, cookie=cookies.make("spoof", epoch, i)))
    for link in scenario.links:
        for end in (link.a, link.b):
            dpid, port = scenario.switch[end].dpid, graph.link_port(end, link.id).number
            flows.append(FlowEntry(dpid, 100, match(in_port=port, eth_type=ETH_TYPE_MPLS), (), TABLE_EDGE,
                                   goto_table=TABLE_LABEL, cookie=cookies.make("core", epoch)))
            flows.append(FlowEntry(dpid, 90, match(in_port=port, eth_type=ETH_TYPE_IP), (), TABLE_EDGE,
                                   goto_table=TABLE_ROUTE, cookie=cookies.make("core", epoch)))
    return flows


def route_flows(scenario: Scenario, epoch: int, down: frozenset[str] = frozenset()) -> list[FlowEntry]:
    """Best-effort IPv4 destination routes on every switch (table 3), around links that are down."""
    return [FlowEntry(sw.dpid, 100, match(eth_type=ETH_TYPE_IP, ipv4_dst=str(host.ip)), (Output(port),),
                      TABLE_ROUTE, cookie=cookies.make("route", epoch, i))
            for i, host, sw, port in host_routes(scenario, down)]


def label_flows(scenario: Scenario, paths: PathPlan, epoch: int) -> list[FlowEntry]:
    """Forward on the label at every switch a route crosses; pop at its last switch."""
    flows = []
    for route in paths.routes():
        for hop, sw in enumerate(route.switches):
            dpid = scenario.switch[sw].dpid
            m = match(eth_type=ETH_TYPE_MPLS, mpls_label=route.label)
            cookie = cookies.make("label", epoch, route.label)
            if hop == len(route.switches) - 1:
                flows.append(FlowEntry(dpid, 100, m, (PopMpls(ETH_TYPE_IP),), TABLE_LABEL, goto_table=TABLE_ROUTE,
                                       cookie=cookie))
            elif hop > 0:
                port = scenario.graph.link_port(sw, route.links[hop]).number
                flows.append(FlowEntry(dpid, 100, m, (Output(port),), TABLE_LABEL, cookie=cookie))
    return flows


def _meter(scenario: Scenario, ids: IdAllocator, dpid: int, kbps: int) -> MeterEntry:
    rate = scenario.emulation.emulated_kbps(kbps)
    return MeterEntry(dpid, ids.meter(dpid), rate, _burst(rate))


def demand_rules(scenario: Scenario, paths: PathPlan, epoch: int, ids: IdAllocator,
                 floor_meters: Mapping[str, int | None] | None = None):
    """Meters, groups and classification flows of every served demand.

    Each path of a demand has its own meter at the path's allocated rate, at
    the ingress, before any link: however the demand's traffic falls on its
    paths, no link receives more from it than the market allocated there.
    A split demand's UDP and TCP flows are spread over its paths by the low
    bits of their source port (:func:`slice_counts`, :func:`slice_blocks`);
    its other packets take its largest path.

    Demands that share a (source host, destination host) pair are told apart by
    their UDP or TCP destination port (:attr:`Scenario.demand_port`), so each
    meets only its own meters: the pair's other packets go with its first
    served demand, and the port of a demand the market did not serve is sent
    best effort through its host's universal-floor meter (``floor_meters``:
    host -> meter id), never through a served neighbour's meters.

    A served demand's TCP return traffic (acknowledgements, from its port at the
    destination host back to its source) has a meter of its own at the destination
    host's switch, at :data:`RETURN_SHARE` of the allocation, and is routed best
    effort.  A TCP receiver acknowledges every segment or two (a 66-byte frame per
    1,200-byte frame is 5.5%).  Metered with the host's other traffic at a 200 kbps
    universal floor, a host receiving 10 Mbps of TCP lost acknowledgements and its
    senders got 37-78% of their allocations; metered as a demand going the other
    way between the same hosts, they would be dropped with its excess.
    """
    flows, groups, meters, owners = [], [], [], {}
    floor_meters = floor_meters or {}
    allocated = paths.allocated_kbps
    for i, demand in enumerate(scenario.demands):
        src, dst = scenario.host[demand.src], scenario.host[demand.dst]
        dpid = scenario.switch[src.switch].dpid
        base = match(eth_type=ETH_TYPE_IP, ipv4_src=str(src.ip), ipv4_dst=str(dst.ip))
        cookie = cookies.make("demand", epoch, i)
        pair = scenario.pair_demands[(demand.src, demand.dst)]
        port = scenario.demand_port[demand.id] if len(pair) > 1 else None

        def own(proto: int, field: str, **more) -> Match:
            """The demand's packets of one protocol: its port when it shares its pair."""
            ports = {} if port is None else {field.replace("_src", "_dst"): port}
            return match(**dict(base), ip_proto=proto, **ports, **more)

        kbps = allocated.get(demand.id, 0)
        if kbps <= 0:
            if port is not None:  # not served: best effort, never a served neighbour's meters
                flows += [FlowEntry(dpid, PRIORITY_PORT, own(proto, field), (), TABLE_CLASSIFY,
                                    meter_id=floor_meters.get(demand.src), goto_table=TABLE_ROUTE, cookie=cookie)
                          for proto, field in SLICED]
            continue
        routes = paths.demands.get(demand.id, ())
        targets = []  # (meter id, actions) of each path
        if not routes:  # neighbours on one switch: straight to the host
            meter = _meter(scenario, ids, dpid, kbps)
            meters.append(meter)
            owners[(dpid, meter.meter_id)] = ("demand", demand.id, 0)
            targets.append((meter.meter_id, (Output(scenario.graph.host_port(dst.name).number),)))
        for j, p in enumerate(routes):
            meter = _meter(scenario, ids, dpid, p.kbps)
            meters.append(meter)
            owners[(dpid, meter.meter_id)] = ("demand", demand.id, j)
            buckets = (_push(scenario, p.primary),) + ((_push(scenario, p.backup),) if p.backup else ())
            group = GroupEntry(dpid, ids.group(dpid), "ff", buckets)
            groups.append(group)
            targets.append((meter.meter_id, (Group(group.group_id),)))

        back = scenario.switch[dst.switch].dpid  # its TCP acknowledgements: their own meter, best effort
        meter = _meter(scenario, ids, back, max(RETURN_MIN_KBPS, round(kbps * RETURN_SHARE)))
        meters.append(meter)
        owners[(back, meter.meter_id)] = ("return", demand.id, 0)
        flows.append(FlowEntry(back, PRIORITY_RETURN, match(eth_type=ETH_TYPE_IP, ipv4_src=str(dst.ip),
                                                            ipv4_dst=str(src.ip), ip_proto=IP_PROTO_TCP,
                                                            tcp_src=scenario.demand_port[demand.id]),
                               (), TABLE_CLASSIFY, meter_id=meter.meter_id, goto_table=TABLE_ROUTE,
                               cookie=cookies.make("return", epoch, i)))

        def rule(priority: int, m: Match, j: int) -> FlowEntry:
            return FlowEntry(dpid, priority, m, targets[j][1], TABLE_CLASSIFY, meter_id=targets[j][0], cookie=cookie)

        largest = max(range(len(targets)), key=lambda j: (routes[j].kbps, -j)) if routes else 0
        first_served = next(d for d in pair if allocated.get(d, 0) > 0) == demand.id
        if first_served:
            flows.append(rule(PRIORITY_DEMAND, base, largest))
        else:
            flows += [rule(PRIORITY_PORT, own(proto, field), largest) for proto, field in SLICED]
        if len(routes) > 1:
            bits = max(SPLIT_BITS, (len(routes) - 1).bit_length())
            blocks = slice_blocks(slice_counts([p.kbps for p in routes], bits), bits)
            flows += [rule(PRIORITY_SLICE, own(proto, field, **{field: (value, mask)}), j)
                      for proto, field in SLICED for j, value, mask in blocks]
    return flows, groups, meters, owners


#: A host's best effort never gets less than this (kbps), so that pings and the like go on
#: over links the market sold whole (a world without a universal floor reserves nothing).
BEST_EFFORT_MIN_KBPS = 8


def best_effort_rates(scenario: Scenario, paths: PathPlan, down: frozenset[str] = frozenset()) -> dict[str, int]:
    """Each host's best-effort rate (kbps) in a world without a universal floor: a max-min
    share of what the market left unsold on every link direction its best-effort routes
    (to every other host) may cross, so that best effort never takes what was sold.

    The spare of a link direction is its capacity less the kbps of the served paths
    crossing it that way.  A host wants at most its access link; a host that crosses no
    link gets that.  Every host gets at least :data:`BEST_EFFORT_MIN_KBPS`.
    """
    from .maxmin import max_min

    graph = scenario.graph
    up = None if not down else {l.id for l in scenario.links if l.id not in down}
    spare = {}
    for link in scenario.links:
        if link.id not in down:
            spare[(link.id, link.a)] = spare[(link.id, link.b)] = float(link.capacity_kbps)
    for demand_paths in paths.demands.values():
        for p in demand_paths:
            for link, sw in zip(p.primary.links, p.primary.switches):
                if (link, sw) in spare:
                    spare[(link, sw)] -= p.kbps
    towards = {sw: graph.tree_towards(sw, up) for sw in {h.switch for h in scenario.hosts}}
    uses: dict[str, set] = {}
    for h in scenario.hosts:
        crossed = uses.setdefault(h.name, set())
        for dst_switch, tree in towards.items():
            at = h.switch
            while at != dst_switch and at in tree:
                link, nxt = tree[at]
                crossed.add((link, at))
                at = nxt
    wants = {h.name: float(h.access_kbps) for h in scenario.hosts}
    rates = max_min(wants, {h: sorted(u) for h, u in uses.items()}, {k: max(0.0, v) for k, v in spare.items()})
    return {h: max(BEST_EFFORT_MIN_KBPS, int(rate)) for h, rate in rates.items()}


def floor_rules(scenario: Scenario, epoch: int, ids: IdAllocator, best_effort: Mapping[str, int] | None = None):
    """Every host's other traffic: metered at the universal-service floor (which the market
    reserves), routed best effort.  Without a floor, at ``best_effort`` (host -> kbps, from
    :func:`best_effort_rates`) when given, else not metered."""
    flows, meters, owners = [], [], {}
    floor = scenario.market.universal_floor_kbps
    for i, h in enumerate(scenario.hosts):
        dpid = scenario.switch[h.switch].dpid
        meter_id = None
        rate = floor if floor > 0 else (best_effort or {}).get(h.name, 0)
        if rate > 0:
            meter = _meter(scenario, ids, dpid, rate)
            meters.append(meter)
            meter_id = meter.meter_id
            owners[(dpid, meter_id)] = ("floor", h.name, 0)
        flows.append(FlowEntry(dpid, PRIORITY_FLOOR, match(eth_type=ETH_TYPE_IP, ipv4_src=str(h.ip)), (),
                               TABLE_CLASSIFY, meter_id=meter_id, goto_table=TABLE_ROUTE,
                               cookie=cookies.make("floor", epoch, i)))
    return flows, meters, owners


def market_plan(scenario: Scenario, paths: PathPlan, epoch: int = 0, down: frozenset[str] = frozenset()) -> RulePlan:
    """Everything every switch should hold to enforce ``paths`` in ``epoch``; ``down`` links carry nothing."""
    ids = IdAllocator(epoch)
    best_effort = best_effort_rates(scenario, paths, down) if scenario.market.universal_floor_kbps <= 0 else None
    f_flows, f_meters, f_owners = floor_rules(scenario, epoch, ids, best_effort)
    floor_meters = {name: meter_id for (_, meter_id), (_, name, _) in f_owners.items()}
    d_flows, groups, d_meters, d_owners = demand_rules(scenario, paths, epoch, ids, floor_meters)
    flows = [*edge_flows(scenario, epoch), *d_flows, *f_flows, *label_flows(scenario, paths, epoch),
             *route_flows(scenario, epoch, down)]
    plan = RulePlan(flows=tuple(flows), groups=tuple(groups), meters=tuple(f_meters + d_meters), epoch=epoch,
                    meter_owners={**f_owners, **d_owners})
    return cookies.seal(plan)
