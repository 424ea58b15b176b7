"""The runner's half of the timeline: links going down and coming back, on the run's clock.

A link is cut by taking both of its switch ports down (``ip link set ... down`` on the
switches' interfaces, which live in the root namespace), so Open vSwitch reports the
ports down to the controller exactly as it would for a real cut.  The controller's
half (market events) is told the same start over HTTP (``POST /timeline``).

>>> from topologies.loader import load_scenario
>>> s = load_scenario("topologies/library/failover.yaml")
>>> link_commands(s, s.timeline[0])
[['ip', 'link', 'set', 'r1-eth1', 'down'], ['ip', 'link', 'set', 'r2-eth1', 'down']]
"""
from __future__ import annotations

import subprocess
import threading
import time

from topologies.model import Event, Scenario
from topologies.timeline import link_events


def link_commands(scenario: Scenario, event: Event) -> list[list[str]]:
    """The commands that play one link event on both ends of the link."""
    link = scenario.link[event.target]
    state = "down" if event.action == "link_down" else "up"
    return [["ip", "link", "set", f"{end}-eth{scenario.graph.link_port(end, link.id).number}", state]
            for end in (link.a, link.b)]


class LinkPlayer:
    """Plays a scenario's link events from a start time (monotonic seconds), in a thread.

    ``played`` records ``(seconds from the start, action, link, ok)``; :meth:`stop`
    ends it early (a run that is interrupted) and restores every link it took down.
    """

    def __init__(self, scenario: Scenario, clock=time.monotonic):
        self.scenario, self.clock = scenario, clock
        self.events = link_events(scenario)
        self.played: list[tuple[float, str, str, bool]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down: set[str] = set()

    def start(self, start: float) -> None:
        if self.events:
            self._thread = threading.Thread(target=self._play, args=(start,), name="link-player", daemon=True)
            self._thread.start()

    def _play(self, start: float) -> None:
        for event in self.events:
            if self._stop.wait(max(0.0, start + event.at_s - self.clock())):
                return
            ok = all(subprocess.run(cmd, capture_output=True).returncode == 0
                     for cmd in link_commands(self.scenario, event))
            (self._down.add if event.action == "link_down" else self._down.discard)(event.target)
            self.played.append((round(self.clock() - start, 3), event.action, event.target, ok))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for link in sorted(self._down):  # leave no link down behind us
            for cmd in link_commands(self.scenario, Event(0, "link_up", link)):
                subprocess.run(cmd, capture_output=True)
