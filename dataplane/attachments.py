"""Which attachment a multihomed host's traffic took, second by second, and whether the
market chose it.

A multihomed host sits on its own device switch; each of its attachments is a link
from that switch to an access provider.  During a run's traffic, an
:class:`AttachmentSampler` reads the device switches' port counters
(``ovs-ofctl dump-ports``) at every second of the traffic's clock, so the report can
say how many kbps left the host (``up``) and reached it (``down``) through each
attachment in each second.  :func:`attachment_problems` holds that against the plan
in force: in a second away from any change of plan, traffic through an attachment
the market did not choose is a broken promise.

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/library/multihomed.yaml")
>>> samples = [(0.0, {("phone-d", 2): (0, 0)}), (1.0, {("phone-d", 2): (125_000, 250_000)})]
>>> per_second(s, samples)["phone"]["ph-cell"]
{'up_kbps_per_s': [2000], 'down_kbps_per_s': [1000]}
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from topologies.model import Scenario
from topologies.units import format_rate

from .compare import read_counters

#: A second's traffic through an attachment the market did not choose is let pass up to
#: this many kbps (ARP, pings and the universal floor's best effort), and this share of
#: the host's traffic in that direction.
STRAY_KBPS = 100
STRAY_SHARE = 0.05


class AttachmentSampler:
    """Reads the device switches' counters at ``start + k`` seconds, k = 0, 1, ..., in a thread."""

    def __init__(self, scenario: Scenario, reader: Callable = read_counters, clock=time.monotonic):
        self.scenario, self.reader, self.clock = scenario, reader, clock
        self.devices = [h.switch for h in scenario.multihomed]
        self.samples: list[tuple[float, dict]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, start: float) -> None:
        if self.devices:
            self._thread = threading.Thread(target=self._sample, args=(start,), name="attachments", daemon=True)
            self._thread.start()

    def _sample(self, start: float) -> None:
        k = 0
        while not self._stop.wait(max(0.0, start + k - self.clock())):
            try:
                counters = self.reader(self.scenario, self.devices)
            except Exception:  # noqa: BLE001 - a lost sample leaves a gap, and the report says so
                counters = None
            if counters is not None:
                self.samples.append((self.clock() - start, counters))
            k = max(k + 1, int(self.clock() - start) + 1)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def report(self) -> dict:
        return per_second(self.scenario, self.samples)


def per_second(scenario: Scenario, samples: list[tuple[float, dict]]) -> dict:
    """``host -> attachment -> {"up_kbps_per_s": [...], "down_kbps_per_s": [...]}``: second i
    is from the sample nearest ``i`` to the sample nearest ``i + 1`` (None where one is missing)."""
    graph = scenario.graph
    at = {round(t): (t, counters) for t, counters in samples}
    seconds = max(at, default=0)
    out = {}
    for host in scenario.multihomed:
        rows = {}
        for link in host.attachments:
            key = (host.switch, graph.link_port(host.switch, link).number)
            up, down = [], []
            for i in range(seconds):
                (t0, before), (t1, after) = at.get(i, (0, {})), at.get(i + 1, (0, {}))
                if key not in before or key not in after:
                    up.append(None)
                    down.append(None)
                    continue
                span = t1 - t0 if t1 > t0 else 1.0
                up.append(round((after[key][1] - before[key][1]) * 8 / 1000 / span))
                down.append(round((after[key][0] - before[key][0]) * 8 / 1000 / span))
            rows[link] = {"up_kbps_per_s": up, "down_kbps_per_s": down}
        out[host.name] = rows
    return out


def chosen(scenario: Scenario, attachments_kbps: dict) -> dict[tuple[str, str], set[str]]:
    """``(host, "up" or "down") -> the attachments a plan sends the host's demands through``."""
    out: dict[tuple[str, str], set[str]] = {}
    owner = {a: h.name for h in scenario.multihomed for a in h.attachments}
    for demand, links in attachments_kbps.items():
        d = scenario.demand.get(demand)    # None: a demand the timeline or the API added
        for link, kbps in links.items():
            host = owner.get(link)
            if kbps <= 0 or host is None:
                continue
            directions = [x for end, x in ((d.src, "up"), (d.dst, "down")) if end == host] if d else ["up", "down"]
            for direction in directions:
                out.setdefault((host, direction), set()).add(link)
    return out


def attachment_problems(scenario: Scenario, measured: dict, plans: list[tuple[float, dict]],
                        changes: list[float]) -> list[str]:
    """Seconds in which a multihomed host's traffic went through an attachment the plan in
    force did not choose; ``plans`` are ``(seconds from the start, attachments_kbps)``, and a
    second within one second of a change (of plan, or of a link) is not judged."""
    problems = []
    for host, rows in measured.items():
        for direction in ("up", "down"):
            key = f"{direction}_kbps_per_s"
            seconds = max((len(r[key]) for r in rows.values()), default=0)
            for i in range(seconds):
                if any(i - 1 <= c <= i + 2 for c in changes):
                    continue
                in_force = [p for at, p in plans if at <= i]
                if not in_force:
                    continue
                want = chosen(scenario, in_force[-1]).get((host, direction), set())
                rates = {link: r[key][i] for link, r in rows.items() if r[key][i] is not None}
                total = sum(rates.values())
                for link, kbps in sorted(rates.items()):
                    if link not in want and kbps > max(STRAY_KBPS, STRAY_SHARE * total):
                        problems.append(
                            f"{host}: second {i}: {format_rate(kbps)} went {direction} through {link}, an attachment "
                            f"the market did not choose ({', '.join(sorted(want)) or 'none'} chosen)")
    return problems


def format_attachments(measured: dict) -> str:
    """One line per attachment and direction: what it carried each second."""
    lines = []
    for host, rows in measured.items():
        lines.append(f"{host}'s attachments, per second:")
        for link, r in rows.items():
            for direction in ("up", "down"):
                values = " ".join(f"{'.' if x is None else format_rate(x):>9}" for x in r[f"{direction}_kbps_per_s"])
                lines.append(f"  {link:<12} {direction:<5}{values}")
    return "\n".join(lines)
