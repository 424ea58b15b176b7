"""``openisp run --cli``: Mininet's console with the market's commands, driven on a
pseudo-terminal as a student types them: a cut link re-plans, a price change moves
the neighbours' traffic, Mininet's own commands still work, and leaving tears down."""
from __future__ import annotations

import re
import sys

import pytest

from topologies.loader import load_scenario

from .terminal import Terminal
from .test_run_command import assert_nothing_left

pytestmark = pytest.mark.integration

WORLD = "topologies/library/local-first.yaml"
PROMPT = r"mininet> "
MOVED = r"ann-cy: 4Mbps over nb1 > nb2 -> 4Mbps over nb1 > bb-west > nb2"


def test_the_console_fails_a_link_changes_a_price_measures_and_tears_down(tmp_path):
    # epochs of an hour: only the console's `epoch` clears, so a periodic one cannot get there first
    text = open(WORLD).read()
    world = tmp_path / "local-first.yaml"
    world.write_text(text.replace("epoch_s: 30,", "epoch_s: 3600,"))
    assert world.read_text() != text
    term = Terminal([sys.executable, "-m", "openisp.cli", "run", str(world), "--cli", "--no-prometheus"],
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(tmp_path), "TERM": "dumb"})
    try:
        term.expect(r"reachability: 20/20 host pairs", timeout=180)
        term.expect(PROMPT)
        term.send("market")
        term.expect(r"ann-cy\s+4Mbps\s+0\.200000\s+nb1 > nb2")
        term.expect(PROMPT)

        term.send("fail direct")
        took = float(term.expect(r"direct down: re-planned in ([0-9.]+) s").group(1))
        term.expect(MOVED)
        assert took < 5, took
        term.expect(PROMPT)
        term.send("paths ann-cy")
        term.expect(r"ann-cy: 4Mbps allocated\n\s+nb1 > bb-west > nb2")
        term.expect(PROMPT)
        term.send("restore direct")
        term.expect(r"direct up: re-planned in [0-9.]+ s")
        term.expect(r"ann-cy: 4Mbps over nb1 > bb-west > nb2 -> 4Mbps over nb1 > nb2")
        term.expect(PROMPT)

        # the direct link's owner asks more than the way round through the backbone costs
        term.send("ask direct 0.60")
        term.expect(r"asks 0\.60 per Mbps from epoch")
        term.expect(PROMPT)
        term.send("epoch")
        term.expect(r"epoch \d+: cleared and installed in")
        term.expect(MOVED)
        term.expect(PROMPT)
        term.send("prices")
        term.expect(r"direct\s+northside\s+0kbps\s+0\.600000")
        term.expect(PROMPT)

        term.send("traffic ann-cy 2")
        share = int(term.expect(r"ann-cy: 2 s at 8Mbps: received \S+ \((\d+)% of its 4Mbps allocation\)",
                                timeout=60).group(1))
        assert 90 <= share <= 110, share
        term.expect(PROMPT)

        term.send("h1 ping -c 2 h3")  # Mininet's own commands still work
        term.expect(r"2 packets transmitted, 2 received")
        term.expect(PROMPT)
        term.send("bid nobody 1Mbps 1")
        term.expect(r"error: unknown demand 'nobody'")
        term.expect(PROMPT)

        term.send("exit")
        code = term.wait()
        assert code == 0, term.seen[-3000:]
        assert re.search(r"teardown: clean", term.seen), term.seen[-3000:]
    finally:
        term.close()
    assert_nothing_left(load_scenario(WORLD))
