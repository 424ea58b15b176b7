"""docs/local-first.md's three questions, answered by the market as the lesson says, on
the lesson's own edits of the world (the same text changes its commands make)."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from controller.market import clear_market
from topologies.loader import load_scenario_text

WORLD = Path("topologies/library/local-first.yaml").read_text()
LESSON = Path("docs/local-first.md").read_text()


def clear(text: str):
    result = clear_market(load_scenario_text(text))
    demands = {d.demand_id: d for d in result.demands}
    links = {l.link_id: l for l in result.links}
    return demands, links


def routes(demand) -> list[tuple[tuple[str, ...], int]]:
    return [(tuple(p.switches), p.kbps) for p in demand.paths]


def test_the_world_as_it_is_keeps_the_neighbours_on_the_direct_link():
    demands, links = clear(WORLD)
    assert routes(demands["ann-cy"]) == [(("nb1", "nb2"), 4000)]
    assert routes(demands["di-bo"]) == [(("nb2", "nb1"), 3000)]
    assert demands["ann-cy"].pays == Decimal("0.200000")
    assert re.search(r"`ann-cy` goes `nb1 > nb2`, over the direct link, and pays\s+0\.200000 for 4 Mbps", LESSON)


def test_question_1_without_the_direct_link_the_neighbours_climb_and_pay_four_times_as_much():
    assert "sed '/id: direct/d; /link: direct/d'" in LESSON
    cut = "\n".join(l for l in WORLD.splitlines() if "id: direct" not in l and "link: direct" not in l)
    demands, _ = clear(cut)
    assert routes(demands["ann-cy"]) == [(("nb1", "bb-west", "nb2"), 4000)]
    assert routes(demands["di-bo"]) == [(("nb2", "bb-west", "nb1"), 3000)]
    assert demands["ann-cy"].pays == Decimal("0.800000") == 4 * clear(WORLD)[0]["ann-cy"].pays
    assert "0.800000 instead of 0.200000" in LESSON


@pytest.mark.parametrize("ask, direct", [("0.60", False), ("0.15", True)])
def test_question_2_an_ask_above_the_way_round_moves_the_neighbours_to_the_backbone(ask, direct):
    dear = WORLD.replace('{link: direct, ask_per_mbps: "0.05"}', f'{{link: direct, ask_per_mbps: "{ask}"}}')
    assert dear != WORLD
    demands, links = clear(dear)
    want = ("nb1", "nb2") if direct else ("nb1", "bb-west", "nb2")
    assert routes(demands["ann-cy"]) == [(want, 4000)]
    assert (links["direct"].allocated_kbps > 0) == direct
    assert "mininet> ask direct 0.60" in LESSON and "Try 0.15" in LESSON


def test_question_3_a_bid_beyond_the_direct_link_is_split_and_the_direct_link_is_priced_at_the_way_round():
    more = WORLD.replace("{id: ann-cy, src: h1, dst: h3, max_rate: 4Mbps",
                         "{id: ann-cy, src: h1, dst: h3, max_rate: 10Mbps")
    assert more != WORLD
    demands, links = clear(more)
    assert sorted(routes(demands["ann-cy"])) == [(("nb1", "bb-west", "nb2"), 2000), (("nb1", "nb2"), 8000)]
    assert links["direct"].price_per_mbps == Decimal("0.200000")
    assert re.search(r"8 Mbps\s+direct\s+and 2 Mbps through `bb-west`", LESSON)
    assert "rises from its ask (0.05) to 0.20" in LESSON
