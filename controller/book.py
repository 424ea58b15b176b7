"""The order book of the open market: the offers and demands the next epoch clears.

The scenario file seeds it; participants change it while the market runs (through
:mod:`controller.api`), and every change applies to the *next* clearing.  Each
change is checked twice:

- origin validation, as RPKI is for routes: only a link's owner may offer it,
  only a host's owner may bid from it, and only an item's seller or buyer may
  change or withdraw it (:class:`NotOwner`);
- the scenario language: the book with the change applied is rebuilt by the
  project's own loader (:func:`topologies.loader.build_scenario`), so a value
  the scenario file would refuse is refused here too, with the same reason
  (:class:`Invalid`).

A refused change leaves the book as it was.  The book is thread-safe: the API's
worker threads change it while the controller reads it.

>>> book = Book.from_file("topologies/default.yaml")
>>> book.submit_offer("atlas", {"id": "at1-extra", "link": "at1", "ask_per_mbps": "0.5"})
Traceback (most recent call last):
controller.book.Invalid: capacity: offers on link 'at1' sell 40000 kbps in all, more than its 20000 kbps
>>> book.change_offer("atlas", "offer-at1", {"ask_per_mbps": "0.35"}).ask_per_mbps
Decimal('0.35')
>>> book.submit_offer("ana", {"link": "at2", "ask_per_mbps": "0.1"})
Traceback (most recent call last):
controller.book.NotOwner: ana cannot offer link 'at2': it belongs to atlas
"""
from __future__ import annotations

import copy
import re
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from controller.errors import ControllerError
from topologies.errors import ScenarioError
from topologies.loader import build_scenario
from topologies.model import Demand, Event, Offer, Scenario
from topologies.yamlsource import read_yaml_file, read_yaml_text

__all__ = ["Book", "BookError", "Invalid", "NotOwner", "UnknownItem", "Conflict", "offer_data", "demand_data",
           "OFFER_CHANGES", "DEMAND_CHANGES", "MAX_ITEMS_PER_PARTICIPANT"]

#: What a change may touch; anything else is a withdrawal and a new submission.
OFFER_CHANGES = ("ask_per_mbps", "capacity", "tiers")
DEMAND_CHANGES = ("max_rate", "value_per_mbps", "floor")
#: Offers plus demands one participant may hold: each one is a column of the market's LP.
MAX_ITEMS_PER_PARTICIPANT = 200
_SOURCE = "<book>"


class BookError(ControllerError):
    """A change to the book was refused; nothing changed."""


class Invalid(BookError):
    """The change breaks a rule of the scenario language; ``problems`` is ``[(field, reason)]``."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {reason}" if field else reason for field, reason in self.problems))


class NotOwner(BookError):
    """The participant does not own what it tries to sell, bid from or change."""


class UnknownItem(BookError):
    """No offer or demand of that id is in the book."""


class Conflict(BookError):
    """The id is taken, or the participant holds as many items as it may."""


def offer_data(offer: Offer) -> dict:
    """An offer written in the scenario language (what the loader reads back to the same offer).

    >>> offer_data(Offer("o", "at1", "atlas", 5000, Decimal("0.2")))
    {'id': 'o', 'link': 'at1', 'seller': 'atlas', 'capacity': 5000, 'ask_per_mbps': '0.2'}
    """
    data = {"id": offer.id, "link": offer.link, "seller": offer.seller, "capacity": offer.capacity_kbps,
            "ask_per_mbps": str(offer.ask_per_mbps)}
    if offer.tiers:
        data["tiers"] = [{"up_to": t.up_to_kbps, "ask_per_mbps": str(t.ask_per_mbps)} for t in offer.tiers]
    return data


def demand_data(demand: Demand) -> dict:
    """A demand written in the scenario language."""
    return {"id": demand.id, "buyer": demand.buyer, "src": demand.src, "dst": demand.dst,
            "max_rate": demand.max_kbps, "value_per_mbps": str(demand.value_per_mbps), "floor": demand.floor_kbps}


class Book:
    """Offers and demands for the next epoch, seeded from a scenario's data.

    ``data`` is the scenario file as read (``read_yaml_file``); everything but its
    offers and demands stays as the file has it.
    """

    def __init__(self, data: Mapping[str, Any], file: str = _SOURCE,
                 max_items_per_participant: int = MAX_ITEMS_PER_PARTICIPANT, on_change=None):
        self._lock = threading.RLock()
        self._file = file
        #: called with ``(offers, demands)`` as scenario-language data before each change takes effect,
        #: under the book's lock (an exchange saves them, so a restart keeps what participants did)
        self._on_change = on_change
        self._max_items = max_items_per_participant
        seeded = build_scenario(data, {}, file)
        self._timeline = seeded.timeline
        #: every demand's destination port, the timeline's included: kept as demands come and go
        self._ports = dict(seeded.service_ports)
        # The timeline is a script played against the book (apply_event), not part of it:
        # a withdrawn offer that a later event names must not block the withdrawal.
        self._base = {k: copy.deepcopy(v) for k, v in data.items() if k not in ("offers", "demands", "timeline")}
        self._scenario = self._build([offer_data(o) for o in seeded.offers],
                                     [demand_data(d) for d in seeded.demands])
        self._version = 0
        self._last: tuple[int, Any] | None = None
        self._next_epoch = 1

    @classmethod
    def from_file(cls, path: str | Path, **kwargs) -> "Book":
        data, _ = read_yaml_file(path)
        return cls(data, str(path), **kwargs)

    @classmethod
    def from_text(cls, text: str, file: str = "<text>", **kwargs) -> "Book":
        data, _ = read_yaml_text(text, file)
        return cls(data, file, **kwargs)

    # -- reading ---------------------------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        """The world with the book's offers and demands (no timeline)."""
        with self._lock:
            return self._scenario

    @property
    def version(self) -> int:
        """How many changes the book has taken: a reader can tell whether anything moved."""
        with self._lock:
            return self._version

    @property
    def next_epoch(self) -> int:
        """The epoch the book's content is for: one after the last published clearing."""
        with self._lock:
            return self._next_epoch

    def scenario_for_next_epoch(self) -> Scenario:
        """The scenario the next clearing uses: the book's offers and demands, the file's timeline."""
        with self._lock:
            return replace(self._scenario, timeline=self._timeline, source=self._file)

    def offer(self, offer_id: str) -> Offer:
        with self._lock:
            return self._find(self._scenario.offers, "offer", offer_id)

    def demand(self, demand_id: str) -> Demand:
        with self._lock:
            return self._find(self._scenario.demands, "demand", demand_id)

    # -- the last clearing -----------------------------------------------------------------------
    def publish(self, epoch: int, result) -> None:
        """Record the clearing of ``epoch`` (a ``MarketResult``); the book is now for ``epoch + 1``."""
        with self._lock:
            self._last = (epoch, result)
            self._next_epoch = max(self._next_epoch, epoch + 1)

    def resume_after(self, epoch: int) -> None:
        """After a restart: the book is for the epoch after ``epoch`` (the last one settled)."""
        with self._lock:
            self._next_epoch = max(self._next_epoch, epoch + 1)

    def last_clearing(self) -> tuple[int, Any] | None:
        """``(epoch, MarketResult)`` of the last published clearing, or None before the first."""
        with self._lock:
            return self._last

    # -- changing: offers ------------------------------------------------------------------------
    def submit_offer(self, participant: str, item: Mapping[str, Any]) -> Offer:
        """Add an offer of ``participant`` (scenario-language fields: link, ask_per_mbps, ...)."""
        item = dict(item)
        with self._lock:
            scenario = self._scenario
            link = scenario.link.get(item.get("link")) if isinstance(item.get("link"), str) else None
            if link is not None and link.owner != participant:
                raise NotOwner(f"{participant} cannot offer link {link.id!r}: it belongs to {link.owner}")
            self._check_party(item, "seller", participant)
            item.setdefault("id", f"offer-{item.get('link')}")
            self._check_new(scenario.offers, "offer", item, participant)
            offers = [offer_data(o) for o in scenario.offers] + [item]
            return self._commit(offers, None, "offers", len(offers) - 1).offers[-1]

    def change_offer(self, participant: str, offer_id: str, changes: Mapping[str, Any]) -> Offer:
        """Change the ask, capacity or tiers of one of ``participant``'s offers (None drops a key)."""
        with self._lock:
            offer = self._own(self._scenario.offers, "offer", offer_id, participant, "seller")
            offers = [offer_data(o) for o in self._scenario.offers]
            index = self._scenario.offers.index(offer)
            offers[index] = self._changed(offers[index], changes, OFFER_CHANGES)
            return self._commit(offers, None, "offers", index).offers[index]

    def withdraw_offer(self, participant: str, offer_id: str) -> None:
        with self._lock:
            offer = self._own(self._scenario.offers, "offer", offer_id, participant, "seller")
            self._commit([offer_data(o) for o in self._scenario.offers if o is not offer], None, "offers", None)

    # -- changing: demands -----------------------------------------------------------------------
    def submit_demand(self, participant: str, item: Mapping[str, Any]) -> Demand:
        """Add a demand (a bid) from a host ``participant`` owns; it is the buyer."""
        item = dict(item)
        with self._lock:
            scenario = self._scenario
            host = scenario.host.get(item.get("src")) if isinstance(item.get("src"), str) else None
            if host is not None and host.owner != participant:
                raise NotOwner(f"{participant} cannot bid from host {host.name!r}: it belongs to {host.owner}")
            self._check_party(item, "buyer", participant)
            item.setdefault("id", self._fresh_id(participant, {d.id for d in scenario.demands}))
            self._check_new(scenario.demands, "demand", item, participant)
            demands = [demand_data(d) for d in scenario.demands] + [item]
            return self._commit(None, demands, "demands", len(demands) - 1).demands[-1]

    def change_demand(self, participant: str, demand_id: str, changes: Mapping[str, Any]) -> Demand:
        """Change the max rate, value or floor of one of ``participant``'s demands (None drops a key)."""
        with self._lock:
            demand = self._own(self._scenario.demands, "demand", demand_id, participant, "buyer")
            demands = [demand_data(d) for d in self._scenario.demands]
            index = self._scenario.demands.index(demand)
            demands[index] = self._changed(demands[index], changes, DEMAND_CHANGES)
            return self._commit(None, demands, "demands", index).demands[index]

    def withdraw_demand(self, participant: str, demand_id: str) -> None:
        with self._lock:
            demand = self._own(self._scenario.demands, "demand", demand_id, participant, "buyer")
            self._commit(None, [demand_data(d) for d in self._scenario.demands if d is not demand], "demands", None)

    def apply_event(self, event: Event) -> None:
        """Play one market event of the scenario's timeline, as the item's owner would."""
        kind, verb = event.action.split("_")
        party = "seller" if kind == "offer" else "buyer"
        if verb == "add":
            item = event.params[kind]
            data = offer_data(item) if kind == "offer" else demand_data(item)
            getattr(self, f"submit_{kind}")(getattr(item, party), data)
            return
        owner = getattr(self.offer(event.target) if kind == "offer" else self.demand(event.target), party)
        if verb == "withdraw":
            getattr(self, f"withdraw_{kind}")(owner, event.target)
        else:
            changes = {k: str(v) if isinstance(v, Decimal) else v for k, v in event.params.items()}
            getattr(self, f"change_{kind}")(owner, event.target, changes)

    # -- inside ----------------------------------------------------------------------------------
    def _build(self, offers: list[dict], demands: list[dict]) -> Scenario:
        scenario = build_scenario({**self._base, "offers": offers, "demands": demands}, {}, self._file)
        return replace(scenario, service_ports=dict(self._ports))  # a new demand: the lowest port free

    def _commit(self, offers: list[dict] | None, demands: list[dict] | None, kind: str,
                index: int | None) -> Scenario:
        """Rebuild the book with new offers or demands; on success it replaces the old one."""
        old = self._scenario
        offers = offers if offers is not None else [offer_data(o) for o in old.offers]
        demands = demands if demands is not None else [demand_data(d) for d in old.demands]
        try:
            scenario = self._build(offers, demands)
        except ScenarioError as exc:
            raise Invalid([_field(p, kind, index) for p in exc.problems]) from None
        if self._on_change is not None:  # saved first: a change that cannot be kept is not made
            self._on_change(offers, demands)
        self._scenario = scenario
        self._ports.update(scenario.demand_port)
        self._version += 1
        return scenario

    @staticmethod
    def _find(items, kind: str, item_id: str):
        found = next((i for i in items if i.id == item_id), None)
        if found is None:
            raise UnknownItem(f"no {kind} {item_id!r} in the book")
        return found

    def _own(self, items, kind: str, item_id: str, participant: str, party: str):
        item = self._find(items, kind, item_id)
        if getattr(item, party) != participant:
            raise NotOwner(f"{participant} cannot change {kind} {item_id!r}: it belongs to {getattr(item, party)}")
        return item

    @staticmethod
    def _check_party(item: dict, key: str, participant: str) -> None:
        if key in item and item[key] != participant:
            raise NotOwner(f"{participant} cannot {'sell' if key == 'seller' else 'bid'} as "
                           f"{item[key]!r}: a participant acts only for itself")

    def _check_new(self, items, kind: str, item: dict, participant: str) -> None:
        if any(i.id == item["id"] for i in items):
            raise Conflict(f"the book already holds a {kind} {item['id']!r}; choose another id, or change that one")
        held = sum(o.seller == participant for o in self._scenario.offers) + \
            sum(d.buyer == participant for d in self._scenario.demands)
        if held >= self._max_items:
            raise Conflict(f"{participant} already holds {held} offers and demands, the most one participant may")

    @staticmethod
    def _changed(item: dict, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> dict:
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise Invalid([(k, f"cannot be changed (changeable: {', '.join(allowed)}); withdraw and submit "
                               "anew instead") for k in unknown])
        new = dict(item)
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        return new

    @staticmethod
    def _fresh_id(participant: str, taken: set[str]) -> str:
        n = 1
        while f"{participant[:50]}-{n}" in taken:
            n += 1
        return f"{participant[:50]}-{n}"


def _field(problem, kind: str, index: int | None) -> tuple[str, str]:
    """A loader problem as ``(field of the changed item, reason)``; elsewhere, its whole key path."""
    if index is not None:
        match = re.match(rf"^{kind}\[{index}\]\.?(.*)$", problem.path)
        if match:
            return match.group(1), problem.message
    return problem.path, problem.message
