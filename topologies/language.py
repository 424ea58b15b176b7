"""The scenario language, declared once: which keys each part holds, and what each value may be.

The loader reads files with these declarations, and ``topologies/schema.json``
is written from them (``python -m topologies.language > topologies/schema.json``;
a unit test checks the file is current), so the two describe one language:
a file ``openisp check`` accepts validates against the schema.  The schema
cannot see across values: references between names, uniqueness, addresses
inside prefixes, sums of offers, interface names per switch, connectivity; the
loader checks those too (``docs/scenario.md`` lists them).

>>> RATE.parse("10Mbps"), NUMBER_MS.parse(2)
(10000, 2.0)
>>> SECTIONS["links"].required
('id', 'a', 'b', 'capacity', 'owner')
"""
from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .model import (AT_COST, DEMAND_ESTIMATIONS, EMULATION_RANGE, FEE_RULES, MARKET_MODES, MECHANISMS, PATTERNS,
                    PROTOCOLS, ROLES)
from .units import (MAX_KBPS, MAX_MONEY, MONEY_PATTERN, describe, parse_money, parse_rate_kbps,
                    parse_rate_or_zero_kbps, rate_pattern, whole_number)

#: Linux interface names hold 15 bytes; Mininet names them ``<node>-eth<port>``.
INTERFACE_BYTES = 15
#: A host's only interface is ``<host>-eth0``; a switch's ports count from 1.
MAX_NODE_NAME = INTERFACE_BYTES - len("-eth0")
#: A multihomed host ``h`` sits on its own device switch ``h-d``, so its name is shorter.
DEVICE_SUFFIX = "-d"
#: Mininet node names the emulation takes for itself (dataplane/network.py's controller).
RESERVED_NODE_NAMES = ("c0",)
NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_-]*$"
SCENARIO_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]*$"  # it names the run's directory
MAX_NAME = 64
MAX_TEXT = 1000
PREFIX_PATTERN = ("^198\\.1[89]\\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\."
                  "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(?:1[5-9]|2[0-9]|3[0-2])$")
ADDRESS_PATTERN = PREFIX_PATTERN.split("/")[0] + "$"


@dataclass(frozen=True)
class Kind:
    """What one value may be: its JSON Schema, and how the loader reads it (``ValueError`` with a reason)."""

    schema: Mapping[str, Any]
    parse: Callable[[Any], Any]


def _text(pattern: str | None, max_length: int, what: str) -> Kind:
    regex = re.compile(pattern) if pattern else None

    def parse(value: Any) -> str:
        if not isinstance(value, str) or (regex and not regex.fullmatch(value)) or len(value) > max_length \
                or (pattern and not value):
            raise ValueError(f"expected {what}, got {describe(value)}")
        return value

    schema = {"type": "string", "maxLength": max_length, **({"pattern": pattern} if pattern else {})}
    return Kind(schema, parse)


def name(max_length: int = MAX_NAME) -> Kind:
    """A name: ASCII letters, digits, '-' and '_', starting with a letter."""
    return _text(NAME_PATTERN, max_length, f"a name of at most {max_length} characters: ASCII letters, digits, "
                                           "'-' and '_', starting with a letter")


def _number(low: float, high: float, low_open: bool = False) -> Kind:
    def parse(value: Any) -> float:
        # The bounds refuse .nan (no comparison holds) and .inf as well.
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not (low < value if low_open else low <= value) or not value <= high:
            bound = f"above {low:g}" if low_open else f"at least {low:g}"
            raise ValueError(f"expected a number {bound} and at most {high:g}, got {describe(value)}")
        return float(value)

    return Kind({"type": "number", "exclusiveMinimum" if low_open else "minimum": low, "maximum": high}, parse)


def _integer(low: int, high: int, what: str) -> Kind:
    def parse(value: Any) -> int:
        number = whole_number(value)
        if number is None or not low <= number <= high:
            raise ValueError(f"expected {what}, got {describe(value)}")
        return number

    return Kind({"type": "integer", "minimum": low, "maximum": high}, parse)


def _enum(values: tuple[str, ...], what: str) -> Kind:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise ValueError(f"unknown {what} {describe(value)} (one of: {', '.join(values)})")
        return value

    return Kind({"enum": list(values)}, parse)


def _rate_schema(zero: bool) -> dict:
    return {"oneOf": [{"type": "integer", "minimum": 0 if zero else 1, "maximum": MAX_KBPS},
                      {"type": "string", "pattern": rate_pattern(zero)}, *([{"const": "0"}] if zero else [])]}


RATE = Kind(_rate_schema(False), parse_rate_kbps)
RATE_OR_ZERO = Kind(_rate_schema(True), parse_rate_or_zero_kbps)
MONEY = Kind({"oneOf": [{"type": "integer", "minimum": 0, "maximum": MAX_MONEY},
                        {"type": "string", "pattern": MONEY_PATTERN}]}, parse_money)
NUMBER_MS = _number(0, 100_000)            # latency: up to 100 s
LATENCY_BOUND = _number(0, 100_000, low_open=True)  # a demand's max_latency_ms: above 0
SECONDS_POSITIVE = _number(0, 86_400, low_open=True)
SECONDS = _number(0, 1_000_000)
SCALE = _number(0, 1000, low_open=True)
DPID = _integer(1, 2**64 - 1, "a datapath id: an integer from 1 to 2**64-1")
TEXT = _text(None, MAX_TEXT, f"text of at most {MAX_TEXT} characters")
SCENARIO_NAME = _text(SCENARIO_NAME_PATTERN, MAX_NAME, f"a name of at most {MAX_NAME} characters: ASCII letters, "
                                                       "digits, '.', '-' and '_', starting with a letter or digit")


def _in_range(pattern: str, max_length: int, what: str, example: str) -> Kind:
    """A prefix or an address: the pattern keeps it in the emulation's range; the message says which rule broke."""
    text = _text(pattern, max_length, f"an IPv4 {what} inside {EMULATION_RANGE}, such as {example}")

    def parse(value: Any) -> str:
        try:
            return text.parse(value)
        except ValueError:
            try:
                outside = ipaddress.ip_network(value, strict=False) if isinstance(value, str) else None
            except ValueError:
                outside = None
            if isinstance(outside, ipaddress.IPv4Network) and not outside.subnet_of(EMULATION_RANGE):
                raise ValueError(f"{what} {value} is outside {EMULATION_RANGE}, the benchmarking range emulated "
                                 "hosts must use") from None
            raise

    return Kind(text.schema, parse)


def _tariff(value: Any):
    if value == AT_COST:
        return AT_COST
    try:
        return parse_money(value)
    except ValueError as exc:
        raise ValueError(f"{exc} (or {AT_COST!r}: the provider's costs, per Mbps served)") from None


#: What an access provider charges its customers per Mbps: money, or its costs passed on.
TARIFF = Kind({"oneOf": [{"const": AT_COST}, *MONEY.schema["oneOf"]]}, _tariff)
PREFIX = _in_range(PREFIX_PATTERN, 18, "prefix", "198.18.1.0/24")
ADDRESS = _in_range(ADDRESS_PATTERN, 15, "address", "198.18.1.10")
NODE_NAME = name(MAX_NODE_NAME)
ROLE = _enum(ROLES, "role")
MECHANISM = _enum(MECHANISMS, "mechanism")


@dataclass(frozen=True)
class Section:
    """A mapping: its keys, each a :class:`Kind` or a nested :class:`Section` or :class:`ListOf`."""

    fields: Mapping[str, Any]
    required: tuple[str, ...] = ()
    #: ``market:`` with nothing after it means the defaults
    nullable: bool = False
    #: keys that name something declared elsewhere: key -> what (``participant``, ``switch``, ...)
    refs: Mapping[str, str] = field(default_factory=dict)

    def schema(self) -> dict:
        return {"type": ["object", "null"] if self.nullable else "object", "required": list(self.required),
                "properties": {k: v.schema() if isinstance(v, (Section, ListOf)) else dict(v.schema)
                               for k, v in self.fields.items()},
                "additionalProperties": False}


@dataclass(frozen=True)
class ListOf:
    """A list of mappings (or, for the timeline, of one of several mappings)."""

    items: Section | tuple[Section, ...]
    min_items: int = 0

    @property
    def nullable(self) -> bool:
        """A list that may be empty may also be written as nothing (``offers:`` and no items)."""
        return self.min_items == 0

    def schema(self) -> dict:
        items = ({"oneOf": [s.schema() for s in self.items]} if isinstance(self.items, tuple)
                 else self.items.schema())
        return {"type": ["array", "null"] if self.nullable else "array", "items": items,
                **({"minItems": self.min_items} if self.min_items else {})}


def _section(required: dict, optional: dict | None = None, nullable: bool = False, refs: dict | None = None) -> Section:
    return Section({**required, **(optional or {})}, tuple(required), nullable, refs or {})


TIER = _section({"up_to": RATE, "ask_per_mbps": MONEY})
OFFER = _section({"link": name(), "ask_per_mbps": MONEY},
                 {"id": name(), "seller": name(), "capacity": RATE, "tiers": ListOf(TIER)},
                 refs={"link": "link", "seller": "participant"})
DEMAND = _section({"src": NODE_NAME, "dst": NODE_NAME, "max_rate": RATE, "value_per_mbps": MONEY},
                  {"id": name(), "floor": RATE_OR_ZERO, "buyer": name(), "max_latency_ms": LATENCY_BOUND},
                  refs={"src": "host", "dst": "host", "buyer": "participant"})
#: One of a multihomed host's access links: to a provider's switch, owned and sold by that
#: provider (``id`` defaults to ``HOST-SWITCH``).
ATTACHMENT = _section({"switch": NODE_NAME, "capacity": RATE}, {"id": name(), "latency_ms": NUMBER_MS},
                      refs={"switch": "switch"})
#: A demand the timeline adds needs an id: later events name it.
DEMAND_ADDED = Section(DEMAND.fields, DEMAND.required + ("id",), refs=DEMAND.refs)
SECTIONS: dict[str, Section] = {
    "participants": _section({"name": name(), "role": ROLE}, {"prefix": PREFIX}),
    "switches": _section({"name": NODE_NAME, "owner": name()}, {"city": TEXT, "dpid": DPID},
                         refs={"owner": "participant"}),
    "hosts": _section({"name": NODE_NAME, "owner": name()},
                      {"switch": NODE_NAME, "attach": ListOf(ATTACHMENT, 1), "ip": ADDRESS, "access": RATE},
                      refs={"owner": "participant", "switch": "switch"}),
    "links": _section({"id": name(), "a": NODE_NAME, "b": NODE_NAME, "capacity": RATE, "owner": name()},
                      {"latency_ms": NUMBER_MS}, refs={"a": "switch", "b": "switch", "owner": "participant"}),
    "offers": OFFER,
    "demands": DEMAND,
}
#: The public option's terms (read in ``mode: poc``; docs/poc.md).
POC = _section({}, {"name": name(), "fee": _enum(FEE_RULES, "fee rule"), "tariff": TARIFF,
                    "tariffs": ListOf(_section({"provider": name(), "tariff": TARIFF}, refs={"provider": "participant"}))},
               True)
MARKET = _section({}, {"mechanism": MECHANISM, "epoch_s": SECONDS_POSITIVE, "universal_floor": RATE_OR_ZERO,
                       "demand_estimation": _enum(DEMAND_ESTIMATIONS, "demand estimation"),
                       "mode": _enum(MARKET_MODES, "market mode"), "poc": POC}, True)
#: How a run sends a demand's traffic: the default for every demand, and per demand.
TRAFFIC_FIELDS = {"flows": _integer(1, 1024, "a number of flows from 1 to 1024"),
                  "pattern": _enum(PATTERNS, "pattern"), "on_s": SECONDS_POSITIVE, "off_s": SECONDS_POSITIVE,
                  "packet_size": _integer(64, 1514, "a frame size in bytes from 64 to 1514"),
                  "protocol": _enum(PROTOCOLS, "protocol"), "rate": RATE, "start_s": SECONDS, "stop_s": SECONDS}
TRAFFIC = _section({}, {"default": _section({}, TRAFFIC_FIELDS),
                        "demands": ListOf(_section({"demand": name()}, TRAFFIC_FIELDS, refs={"demand": "demand"}))},
                   True)
EMULATION = _section({}, {"scale": SCALE}, True)

#: Timeline actions: what each names, and what it may change.
ACTIONS: dict[str, Section] = {}
for _action, _target, _extra in (
        ("link_down", name(), {}), ("link_up", name(), {}),
        ("offer_add", OFFER, {}), ("offer_change", name(), {"ask_per_mbps": MONEY, "capacity": RATE}),
        ("offer_withdraw", name(), {}),
        ("demand_add", DEMAND_ADDED, {}),
        ("demand_change", name(), {"max_rate": RATE, "value_per_mbps": MONEY, "floor": RATE_OR_ZERO}),
        ("demand_withdraw", name(), {})):
    _kind = _action.split("_")[0]
    ACTIONS[_action] = _section({"at_s": SECONDS, "action": Kind({"const": _action}, str), _kind: _target}, _extra,
                                refs={} if isinstance(_target, Section) else {_kind: _kind})
ACTION = _enum(tuple(ACTIONS), "action")

#: The whole file.  Lists that must not be empty: nothing can be emulated without them.
TOP = _section({"name": SCENARIO_NAME, "participants": ListOf(SECTIONS["participants"], 1),
                "switches": ListOf(SECTIONS["switches"], 1), "hosts": ListOf(SECTIONS["hosts"], 1),
                "links": ListOf(SECTIONS["links"])},
               {"description": TEXT, "offers": ListOf(OFFER), "demands": ListOf(DEMAND),
                "market": MARKET, "emulation": EMULATION, "timeline": ListOf(tuple(ACTIONS.values())),
                "traffic": TRAFFIC})


def json_schema() -> dict:
    """The JSON Schema of a scenario file (what ``topologies/schema.json`` holds)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "openisp scenario",
        "description": "A multi-provider world for openisp; see docs/scenario.md. Generated from "
                       "topologies/language.py; do not edit. JSON data only: .nan and .inf are not JSON numbers. "
                       "`openisp check` also checks what a schema cannot: references between names, "
                       "uniqueness, addresses, sums of offers, interface names and connectivity.",
        **TOP.schema(),
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
