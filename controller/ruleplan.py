"""A rule plan: the OpenFlow 1.3 state every switch should hold, as pure data.

Planners (shortest-path for the skeleton, market paths later) return a
:class:`RulePlan`; one place in the os-ken app turns it into messages and
sends them; the flow-table simulator replays it without a switch.  Nothing
here imports os_ken.

Match fields use OpenFlow OXM names as os-ken's ``OFPMatch`` takes them
(``in_port``, ``eth_type``, ``eth_src``, ``ipv4_src``, ``ipv4_dst``,
``arp_tpa``, ``mpls_label``, ...).

>>> f = FlowEntry(dpid=1, priority=100, match=match(eth_type=0x0800, ipv4_dst="198.18.1.1"),
...               actions=(Output(1),), cookie=7)
>>> plan = RulePlan(flows=(f,))
>>> [e.priority for e in plan.for_switch(1).flows]
[100]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Union

ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ETH_TYPE_MPLS = 0x8847
OFPP_CONTROLLER = 0xFFFFFFFD
OFPP_IN_PORT = 0xFFFFFFF8

Match = tuple[tuple[str, object], ...]


def match(**fields: object) -> Match:
    """A hashable, order-independent match: ``match(in_port=1, eth_type=0x0800)``.

    A masked field is a ``(value, mask)`` pair: ``match(udp_src=(32, 0x30))``.
    """
    return tuple(sorted(fields.items()))


@dataclass(frozen=True)
class Output:
    port: int


@dataclass(frozen=True)
class ToController:
    """Send the packet to the controller (e.g. ARP requests it answers itself)."""

    max_len: int = 0xFFFF


@dataclass(frozen=True)
class SetField:
    field: str
    value: object


@dataclass(frozen=True)
class PushMpls:
    ethertype: int = ETH_TYPE_MPLS


@dataclass(frozen=True)
class PopMpls:
    ethertype: int = ETH_TYPE_IP


@dataclass(frozen=True)
class PushVlan:
    ethertype: int = 0x8100


@dataclass(frozen=True)
class PopVlan:
    pass


@dataclass(frozen=True)
class Group:
    group_id: int


Action = Union[Output, ToController, SetField, PushMpls, PopMpls, PushVlan, PopVlan, Group]


@dataclass(frozen=True)
class FlowEntry:
    """One flow: match, then (optionally) a meter, actions, and a goto.

    An empty ``actions`` with no ``goto_table`` drops the packet.
    """

    dpid: int
    priority: int
    match: Match
    actions: tuple[Action, ...] = ()
    table_id: int = 0
    meter_id: int | None = None
    goto_table: int | None = None
    cookie: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0

    @property
    def key(self) -> tuple:
        """What identifies a flow in a switch: table, priority and match."""
        return (self.dpid, self.table_id, self.priority, self.match)


@dataclass(frozen=True)
class Bucket:
    actions: tuple[Action, ...]
    weight: int = 0
    watch_port: int | None = None


@dataclass(frozen=True)
class GroupEntry:
    """A group: ``type`` is ``all``, ``select``, ``indirect`` or ``ff`` (fast failover)."""

    dpid: int
    group_id: int
    type: str
    buckets: tuple[Bucket, ...]


@dataclass(frozen=True)
class MeterEntry:
    """A meter that drops above ``rate_kbps`` (burst in kbits)."""

    dpid: int
    meter_id: int
    rate_kbps: int
    burst_kbits: int = 0


@dataclass(frozen=True)
class RulePlan:
    """Everything the switches should hold; compare two plans with :meth:`diff`."""

    flows: tuple[FlowEntry, ...] = ()
    groups: tuple[GroupEntry, ...] = ()
    meters: tuple[MeterEntry, ...] = ()
    epoch: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)
    #: ``(dpid, meter id) -> (kind, name, path index)``: ``("demand", id, j)`` for
    #: path ``j`` of a demand, ``("floor", host, 0)`` for a host's universal floor,
    #: ``("return", id, 0)`` for the meter of a demand's TCP acknowledgements.
    meter_owners: Mapping[tuple[int, int], tuple[str, str, int]] = field(default_factory=dict, compare=False)

    @property
    def dpids(self) -> list[int]:
        return sorted({e.dpid for e in (*self.flows, *self.groups, *self.meters)})

    def for_switch(self, dpid: int) -> "RulePlan":
        """What one switch holds (the plan is split by switch once, at the first call)."""
        split = self.__dict__.get("_by_switch")
        if split is None:
            split = {}
            for kind, entries in (("flows", self.flows), ("groups", self.groups), ("meters", self.meters)):
                for e in entries:
                    split.setdefault(e.dpid, {"flows": [], "groups": [], "meters": [], "owners": {}})[kind].append(e)
            for key, owner in self.meter_owners.items():
                split.setdefault(key[0], {"flows": [], "groups": [], "meters": [], "owners": {}})["owners"][key] = owner
            object.__setattr__(self, "_by_switch", split)
        part = split.get(dpid, {"flows": (), "groups": (), "meters": (), "owners": {}})
        return RulePlan(flows=tuple(part["flows"]), groups=tuple(part["groups"]), meters=tuple(part["meters"]),
                        epoch=self.epoch, meter_owners=dict(part["owners"]))

    def __len__(self) -> int:
        return len(self.flows) + len(self.groups) + len(self.meters)


@dataclass(frozen=True)
class PlanDiff:
    """What to remove and what to add to go from one plan to another."""

    remove: RulePlan
    add: RulePlan

    @property
    def empty(self) -> bool:
        return len(self.remove) == 0 and len(self.add) == 0


def diff(current: RulePlan, wanted: RulePlan) -> PlanDiff:
    """Entries in ``current`` but not ``wanted`` go; those only in ``wanted`` come.

    A changed flow (same key, other actions) is removed and added again.
    """
    def delta(have: Iterable, want: Iterable) -> tuple[tuple, tuple]:
        have_set, want_set = set(have), set(want)
        return (tuple(e for e in have if e not in want_set), tuple(e for e in want if e not in have_set))

    flows_out, flows_in = delta(current.flows, wanted.flows)
    groups_out, groups_in = delta(current.groups, wanted.groups)
    meters_out, meters_in = delta(current.meters, wanted.meters)
    return PlanDiff(
        remove=RulePlan(flows_out, groups_out, meters_out, current.epoch),
        add=RulePlan(flows_in, groups_in, meters_in, wanted.epoch),
    )
