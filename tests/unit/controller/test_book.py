"""The book: origin validation, the scenario language's rules, next-epoch semantics, thread safety."""
from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from controller.book import Book, Conflict, Invalid, NotOwner, UnknownItem, demand_data, offer_data
from topologies.errors import ScenarioError
from topologies.loader import build_scenario, load_scenario
from topologies.model import Event
from topologies.yamlsource import read_yaml_file

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "topologies" / "default.yaml"


@pytest.fixture
def book() -> Book:
    return Book.from_file(DEFAULT)


def unchanged(book: Book):
    """A context that asserts a refused change left the book exactly as it was."""
    class Same:
        def __enter__(self):
            self.before = (book.version, book.scenario)

        def __exit__(self, *exc):
            assert (book.version, book.scenario) == self.before
            assert book.scenario is self.before[1]
    return Same()


@pytest.mark.parametrize("name", ["default.yaml", "library/community.yaml", "library/abilene.yaml",
                                  "library/split.yaml", "library/timeline.yaml"])
def test_seeded_from_the_file_items_written_back_read_the_same(name):
    """The book rewrites every item in the scenario language (offer_data, demand_data) and reloads it."""
    book, scenario = Book.from_file(ROOT / "topologies" / name), load_scenario(ROOT / "topologies" / name)
    assert book.scenario.offers == scenario.offers and book.scenario.demands == scenario.demands
    assert book.version == 0 and book.next_epoch == 1 and book.last_clearing() is None


def test_written_back_tiers_and_floors():
    book = Book.from_text(DEFAULT.read_text())
    book.withdraw_offer("atlas", "offer-at1")
    tiered = book.submit_offer("atlas", {"link": "at1", "ask_per_mbps": "0.1", "tiers": [
        {"up_to": "5Mbps", "ask_per_mbps": "0.1"}, {"up_to": "20Mbps", "ask_per_mbps": "0.3"}]})
    assert offer_data(tiered)["tiers"] == [{"up_to": 5000, "ask_per_mbps": "0.1"},
                                           {"up_to": 20000, "ask_per_mbps": "0.3"}]
    assert demand_data(book.demand("ana-dev"))["floor"] == 500
    book.change_offer("atlas", tiered.id, {"ask_per_mbps": "0.2"})  # rebuilt from the written-back data
    assert book.offer(tiered.id).tiers == tiered.tiers


def test_owner_offers_its_link_for_the_next_epoch(book):
    book.withdraw_offer("metro", "offer-mn-lk")
    offer = book.submit_offer("metro", {"id": "mn-lk-half", "link": "mn-lk", "capacity": "2Mbps",
                                        "ask_per_mbps": "0.07"})
    assert offer.seller == "metro" and offer.capacity_kbps == 2000 and offer.ask_per_mbps == Decimal("0.07")
    assert offer in book.scenario_for_next_epoch().offers
    assert book.version == 2


@pytest.mark.parametrize("participant, link", [("ana", "at1"), ("borealis", "at1"), ("atlas", "bo1"),
                                               ("streamco", "mn-lk")])
def test_offer_on_a_link_of_someone_else_is_refused(book, participant, link):
    with unchanged(book), pytest.raises(NotOwner, match=f"{participant} cannot offer link '{link}'"):
        book.submit_offer(participant, {"id": "x", "link": link, "ask_per_mbps": "0.01", "capacity": 1})


def test_every_non_owner_is_refused_and_no_owner_is():
    """Origin validation over every (participant, link) and (participant, host) pair of the scenario."""
    book = Book.from_file(DEFAULT)
    s = book.scenario
    refused = accepted = 0
    for p in s.participants:
        for link in s.links:
            try:
                book.submit_offer(p.name, {"id": f"probe-{p.name}-{link.id}", "link": link.id, "capacity": 1,
                                           "ask_per_mbps": "1"})
            except NotOwner:
                assert link.owner != p.name
                refused += 1
            except Invalid:  # an owner's: its link is sold out, a rule of the language, not of ownership
                assert link.owner == p.name
                accepted += 1
        for host in s.hosts:
            other = next(h for h in s.hosts if h.name != host.name)
            try:
                book.submit_demand(p.name, {"id": f"probe-{p.name}-{host.name}", "src": host.name, "dst": other.name,
                                            "max_rate": 100, "value_per_mbps": "1"})
                assert host.owner == p.name
                accepted += 1
            except NotOwner:
                assert host.owner != p.name
                refused += 1
    assert refused == sum(l.owner != p.name for p in s.participants for l in s.links) + \
        sum(h.owner != p.name for p in s.participants for h in s.hosts)
    assert accepted == len(s.links) + len(s.hosts)


def test_acting_as_another_participant_is_refused(book):
    with unchanged(book), pytest.raises(NotOwner, match="acts only for itself"):
        book.submit_offer("atlas", {"id": "x", "link": "at1", "seller": "borealis", "ask_per_mbps": "1"})
    with unchanged(book), pytest.raises(NotOwner, match="acts only for itself"):
        book.submit_demand("ana", {"src": "h1", "dst": "h2", "buyer": "ben", "max_rate": 1, "value_per_mbps": "1"})


def test_values_are_judged_by_the_scenario_language(book):
    """A refused item gets the field and the reason the loader gives for the same item in a scenario file."""
    data, _ = read_yaml_file(DEFAULT)
    cases = [
        ({"id": "x", "link": "at1", "ask_per_mbps": 0.25}, "ask_per_mbps"),
        ({"id": "x", "link": "at1", "ask_per_mbps": "-1"}, "ask_per_mbps"),
        ({"id": "x", "link": "at1", "ask_per_mbps": "1", "capacity": "5 furlongs"}, "capacity"),
        ({"id": "x", "link": "at1", "ask_per_mbps": "1", "capacity": "30Mbps"}, "capacity"),
        ({"id": "x", "link": "nowhere", "ask_per_mbps": "1"}, "link"),
        ({"id": "x y", "link": "at1", "ask_per_mbps": "1"}, "id"),
        ({"id": "x", "link": "at1", "ask_per_mbps": "1", "colour": "red"}, "colour"),
    ]
    for item, field in cases:
        with unchanged(book), pytest.raises(Invalid) as caught:
            book.submit_offer("atlas", item)
        assert field in [f for f, _ in caught.value.problems], (item, caught.value.problems)
        with pytest.raises(ScenarioError) as loaded:
            build_scenario({**data, "offers": data["offers"] + [item]}, {}, "x.yaml")
        index = len(data["offers"])
        expected = {(p.path.removeprefix(f"offers[{index}]").lstrip("."), p.message) for p in loaded.value.problems}
        assert set(caught.value.problems) == expected


def test_duplicate_ids_conflict(book):
    with unchanged(book), pytest.raises(Conflict, match="already holds a offer 'offer-at1'"):
        book.submit_offer("atlas", {"link": "at1", "ask_per_mbps": "1"})
    with unchanged(book), pytest.raises(Conflict):
        book.submit_demand("ana", {"id": "ben-gus", "src": "h1", "dst": "h2", "max_rate": 1, "value_per_mbps": "1"})


def test_change_and_withdraw_need_the_owner(book):
    with unchanged(book), pytest.raises(NotOwner, match="belongs to atlas"):
        book.change_offer("borealis", "offer-at1", {"ask_per_mbps": "0"})
    with unchanged(book), pytest.raises(NotOwner):
        book.withdraw_offer("ana", "offer-at1")
    with unchanged(book), pytest.raises(NotOwner, match="belongs to ana"):
        book.change_demand("ben", "ana-dev", {"max_rate": "9Mbps"})
    with unchanged(book), pytest.raises(NotOwner):
        book.withdraw_demand("ben", "ana-dev")
    with unchanged(book), pytest.raises(UnknownItem, match="no offer 'nope'"):
        book.change_offer("atlas", "nope", {})
    with unchanged(book), pytest.raises(UnknownItem):
        book.withdraw_demand("ana", "nope")


def test_changes_touch_only_what_may_change(book):
    offer = book.change_offer("atlas", "offer-at1", {"ask_per_mbps": "0.35", "capacity": "5Mbps"})
    assert (offer.ask_per_mbps, offer.capacity_kbps, offer.link) == (Decimal("0.35"), 5000, "at1")
    assert book.change_offer("atlas", "offer-at1", {"capacity": None}).capacity_kbps == 20000  # back to the default
    with unchanged(book), pytest.raises(Invalid, match="link: cannot be changed"):
        book.change_offer("atlas", "offer-at1", {"link": "at2"})
    demand = book.change_demand("ana", "ana-dev", {"max_rate": "2Mbps", "floor": 0})
    assert (demand.max_kbps, demand.floor_kbps, demand.src) == (2000, 0, "h1")
    with unchanged(book), pytest.raises(Invalid, match="floor: floor 3000 kbps is above max_rate 2000 kbps"):
        book.change_demand("ana", "ana-dev", {"floor": "3Mbps"})
    with unchanged(book), pytest.raises(Invalid, match="src: cannot be changed"):
        book.change_demand("ana", "ana-dev", {"src": "h2"})


def test_withdrawn_items_leave_the_next_epoch(book):
    book.withdraw_demand("ana", "ana-dev")
    book.withdraw_offer("atlas", "offer-at1")
    nxt = book.scenario_for_next_epoch()
    assert "ana-dev" not in nxt.demand and all(o.id != "offer-at1" for o in nxt.offers)
    with pytest.raises(UnknownItem):
        book.demand("ana-dev")


def test_demand_ids_are_made_when_missing(book):
    first = book.submit_demand("ana", {"src": "h1", "dst": "h5", "max_rate": "1Mbps", "value_per_mbps": "2"})
    second = book.submit_demand("ana", {"src": "h1", "dst": "h6", "max_rate": "1Mbps", "value_per_mbps": "2"})
    assert (first.id, second.id, first.buyer) == ("ana-1", "ana-2", "ana")


def test_a_participant_holds_a_bounded_number_of_items():
    book = Book.from_file(DEFAULT, max_items_per_participant=3)
    for i in range(2):  # ana holds ana-dev already
        book.submit_demand("ana", {"src": "h1", "dst": "h5", "max_rate": 1, "value_per_mbps": "1"})
    with unchanged(book), pytest.raises(Conflict, match="already holds 3"):
        book.submit_demand("ana", {"src": "h1", "dst": "h5", "max_rate": 1, "value_per_mbps": "1"})


def test_next_epoch_keeps_the_files_timeline_and_counts_epochs():
    book = Book.from_file(ROOT / "topologies" / "library" / "failover.yaml")
    assert book.scenario.timeline == () and book.scenario_for_next_epoch().timeline
    book.publish(4, "result")
    assert book.last_clearing() == (4, "result") and book.next_epoch == 5
    book.resume_after(9)
    assert book.next_epoch == 10


def test_timeline_events_are_played_as_their_owner(book):
    book.apply_event(Event(1, "offer_change", "offer-at1", {"ask_per_mbps": Decimal("0.9")}))
    assert book.offer("offer-at1").ask_per_mbps == Decimal("0.9")
    added = load_scenario(DEFAULT).demands[0]
    book.apply_event(Event(2, "demand_withdraw", added.id, {}))
    book.apply_event(Event(3, "demand_add", added.id, {"demand": added}))
    assert book.demand(added.id) == added


def test_saving_happens_before_the_change_and_a_failed_save_changes_nothing():
    saved = []
    book = Book.from_file(DEFAULT, on_change=lambda offers, demands: saved.append((offers, demands)))
    book.change_offer("atlas", "offer-at1", {"ask_per_mbps": "0.4"})
    assert saved[-1][0][0]["ask_per_mbps"] == "0.4"

    def broken(*_):
        raise OSError("disk full")
    failing = Book.from_file(DEFAULT, on_change=broken)
    with unchanged(failing), pytest.raises(OSError):
        failing.change_offer("atlas", "offer-at1", {"ask_per_mbps": "0.4"})


def test_concurrent_changes_are_all_kept():
    book = Book.from_file(DEFAULT)
    errors = []

    def bid(name, host):
        try:
            for _ in range(5):
                book.submit_demand(name, {"src": host, "dst": "cdn1", "max_rate": 100, "value_per_mbps": "1"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=bid, args=(h.owner, h.name))
               for h in book.scenario.hosts if h.owner != "streamco"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(book.scenario.demands) == 7 + 5 * len(threads) and book.version == 5 * len(threads)


def test_a_demand_keeps_its_port_when_another_of_its_pair_is_withdrawn():
    """Three demands on one host pair hold 5201, 5202 and 5203 (a timeline's demand_add
    counts too): withdrawing the first must not move the others, whose generators send
    to the ports they were given."""
    data = read_yaml_file("topologies/default.yaml")[0]
    ana = next(d for d in data["demands"] if d["id"] == "ana-dev")
    data["demands"].append({**ana, "id": "ana-two", "floor": 0})
    data["timeline"] = [{"at_s": 5, "action": "demand_add", "demand": {**ana, "id": "ana-late", "floor": 0}}]
    book = Book(data)
    assert {d: book.scenario.service_ports[d] for d in ("ana-dev", "ana-two", "ana-late")} == \
        {"ana-dev": 5201, "ana-two": 5202, "ana-late": 5203}
    others = {d.id: 5201 for d in book.scenario.demands if d.id not in ("ana-dev", "ana-two")}
    (added,) = book.scenario_for_next_epoch().timeline
    book.apply_event(added)
    book.apply_event(Event(6, "demand_withdraw", "ana-dev", {}))
    assert dict(book.scenario.demand_port) == {**others, "ana-two": 5202, "ana-late": 5203}
    book.submit_demand(book.demand("ana-two").buyer, {**ana, "id": "ana-api", "floor": 0})
    assert book.scenario.demand_port["ana-api"] == 5201  # the lowest port free on its pair



def test_a_demand_added_through_the_api_keeps_its_port_too():
    data = read_yaml_file("topologies/default.yaml")[0]
    ana = next(d for d in data["demands"] if d["id"] == "ana-dev")
    data["demands"].append({**ana, "id": "ana-two", "floor": 0})
    book = Book(data)
    buyer = book.demand("ana-dev").buyer
    book.submit_demand(buyer, {**ana, "id": "ana-api", "floor": 0})
    assert book.scenario.demand_port["ana-api"] == 5203
    book.withdraw_demand(buyer, "ana-dev")  # 5201 comes free; ana-api's generator still sends to 5203
    assert book.scenario.demand_port["ana-api"] == 5203 and book.scenario.demand_port["ana-two"] == 5202
