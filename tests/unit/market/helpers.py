"""Small markets built in code for the market's tests."""
from __future__ import annotations

import ipaddress
from decimal import Decimal

from topologies.model import Demand, Host, Link, MarketSettings, Offer, Participant, PriceTier, Scenario, Switch


def build(switches: list[str], links: list[tuple], demands: list[tuple], floor_kbps: int = 0,
          hosts_on: dict[str, str] | None = None, access_kbps: dict[str, int] | None = None,
          latency: dict[str, float] | None = None, bounds: dict[str, float] | None = None) -> Scenario:
    """``links``: (id, a, b, capacity_kbps, owner, ask or None[, tiers]) with
    ``tiers`` ((up_to_kbps, ask), ...); ``demands``: (id, src host, dst host,
    max_kbps, value[, floor_kbps[, buyer]]).  Each switch gets one host
    ``h<switch>`` unless ``hosts_on`` says otherwise; a demand's buyer is
    ``c<src host>`` unless given; providers are the link owners.
    ``access_kbps``: a host's access link, default 100 Mbps.  ``latency``: a link's
    latency in ms (default 1); ``bounds``: a demand's ``max_latency_ms``.
    """
    hosts_on = hosts_on or {f"h{s}": s for s in switches}
    owners = sorted({l[4] for l in links})
    buyers = [f"c{h}" for h in hosts_on]
    buyers += sorted({d[6] for d in demands if len(d) > 6} - set(buyers))
    participants = [Participant("lm", "last_mile", ipaddress.ip_network("198.18.0.0/24"))]
    participants += [Participant(o, "backbone") for o in owners if o != "lm"]
    participants += [Participant(b, "customer") for b in buyers]
    sw = [Switch(s, "lm", "", i + 1) for i, s in enumerate(switches)]
    hosts = [Host(h, f"c{h}", s, ipaddress.ip_address("198.18.0.0") + i + 1, 24, "02:00:00:00:00:%02x" % (i + 1),
                  (access_kbps or {}).get(h, 100_000))
             for i, (h, s) in enumerate(hosts_on.items())]
    link_objs = [Link(l[0], l[1], l[2], l[3], (latency or {}).get(l[0], 1.0), l[4]) for l in links]
    offers = [Offer(f"o-{l[0]}", l[0], l[4], l[3], Decimal(str(l[5])),
                    tuple(PriceTier(up_to, Decimal(str(ask))) for up_to, ask in (l[6] if len(l) > 6 else ())))
              for l in links if l[5] is not None]
    dem = [Demand(d[0], d[6] if len(d) > 6 else f"c{d[1]}", d[1], d[2], d[3], Decimal(str(d[4])),
                  d[5] if len(d) > 5 else 0, (bounds or {}).get(d[0])) for d in demands]
    return Scenario("test", tuple(participants), tuple(sw), tuple(hosts), tuple(link_objs), tuple(offers), tuple(dem),
                    MarketSettings("vcg", 30, floor_kbps))


def help_says(main, capsys, *texts: str) -> None:
    """``main(["--help"])`` prints each of ``texts`` as whole words, as written (whitespace
    folded: argparse wraps lines)."""
    import re

    import pytest

    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in texts:
        assert re.search(rf"(?<!\w){re.escape(text)}(?!\w)", out), text


def winners(market, solution) -> list[str]:
    """The participants who trade in ``solution``: buyers served and sellers carrying."""
    return sorted({d.buyer for d in market.demands if solution.x_kbps[d.id] > 0}
                  | {a.seller for a in market.arcs if solution.arc_load_kbps[a.index] > 0})
