"""``openisp run SCENARIO --cli``: Mininet's console, with the market's commands.

The run builds the network and the controller and checks reachability as usual,
then opens Mininet's own console (``mininet>``: ``pingall``, ``h1 ping h4``,
``iperf``, ``xterm`` where X exists) with these commands added:

=====================  ======================================================
``market``             the allocation in force: each demand's rate, paths and payment
``paths DEMAND``       one demand's paths and the rate on each
``prices``             each link's allocation and price at the last clearing
``fail LINK``          cut a link (both ports down, as a real cut) and wait for the
                       re-plan: how long it took and which demands moved
``restore LINK``       bring it back, the same way
``ask LINK PRICE``     the link's owner asks PRICE per Mbps from the next epoch
``bid DEMAND RATE VALUE``  the demand's buyer bids for RATE at VALUE per Mbps from
                       the next epoch
``epoch``              clear now, and show what changed
``traffic DEMAND [S]``  send the demand's traffic for S seconds (default 3), as a
                       run does, and show what was received
=====================  ======================================================

Leaving the console (``exit``, ``quit`` or Ctrl-D) tears everything down, as a run
does.  ``ask`` and ``bid`` go through the participants' API with the owner's
token, so the API's rules apply (only the owner may change its offer, the
scenario language's checks).  The commands' work is done by :class:`MarketSession`,
which needs no console.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from topologies.model import Event, Scenario
from topologies.units import format_rate, text_table

from .errors import DataplaneError
from .measure import FLOWS_PER_DEMAND

#: How long ``fail``, ``restore`` and ``epoch`` wait for every switch to hold the new plan.
REPLAN_WAIT_S = 30.0
POLL_S = 0.05


class ConsoleError(DataplaneError):
    """A console command could not be done; the message says why."""


def read_tokens(path: Path) -> dict[str, str]:
    """``name<TAB>token`` lines (the run directory's ``tokens`` file)."""
    tokens = {}
    for line in Path(path).read_text().splitlines():
        if "\t" in line:
            name, token = line.split("\t", 1)
            tokens[name] = token.strip()
    return tokens


def _route(paths: list[list[str]], kbps: list[int] | None = None) -> str:
    if not paths or not any(paths):
        return "-"
    kbps = kbps or []
    return "; ".join(" > ".join(p) + (f" ({format_rate(kbps[i])})" if i < len(kbps) and len(paths) > 1 else "")
                     for i, p in enumerate(paths))


def changes(before: dict, after: dict) -> list[str]:
    """What moved between two controller statuses: each demand whose allocation or paths changed.

    >>> changes({"allocated_kbps": {"a": 3000}, "paths": {"a": [["s1", "s2"]]}},
    ...         {"allocated_kbps": {"a": 2000}, "paths": {"a": [["s1", "s3", "s2"]]}})
    ['a: 3Mbps over s1 > s2 -> 2Mbps over s1 > s3 > s2']
    """
    found = []
    demands = sorted(set(before.get("allocated_kbps", {})) | set(after.get("allocated_kbps", {}))
                     | set(before.get("paths", {})) | set(after.get("paths", {})))
    for d in demands:
        old = (before.get("allocated_kbps", {}).get(d, 0), before.get("paths", {}).get(d, []))
        new = (after.get("allocated_kbps", {}).get(d, 0), after.get("paths", {}).get(d, []))
        if old != new:
            found.append(f"{d}: {format_rate(old[0])} over {_route(old[1])} -> {format_rate(new[0])} over "
                         f"{_route(new[1])}")
    return found


class MarketSession:
    """The market commands against a running controller, its participants' API and the network.

    ``controller`` has ``status()`` and ``post(path, body)`` (a
    :class:`~dataplane.controllerproc.ControllerProcess`); ``api`` is the participants'
    API's URL and ``tokens`` its tokens file (None without a market); ``run_link(cmd)``
    runs one ``ip link`` command; ``measure`` is
    :func:`~dataplane.measure.measure_with_generators`.
    """

    def __init__(self, scenario: Scenario, controller, net=None, api: str | None = None,
                 tokens: Path | None = None, workdir: Path | None = None,
                 run_link: Callable[[list[str]], bool] | None = None, measure: Callable | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 wait_s: float = REPLAN_WAIT_S):
        self.scenario, self.controller, self.net = scenario, controller, net
        self.api, self.tokens_path, self.workdir = api, tokens, workdir
        self.run_link = run_link or _ip_link
        self.measure = measure
        self.clock, self.sleep, self.wait_s = clock, sleep, wait_s

    # --- reading ------------------------------------------------------------
    def status(self) -> dict:
        status = self.controller.status()
        if status is None:
            raise ConsoleError("the controller does not answer")
        return status

    def _market_only(self) -> None:
        if self.api is None:
            raise ConsoleError("no market in this run (plan shortest or hierarchical): nothing to show or change")

    def _call(self, method: str, path: str, who: str, body: dict | None = None) -> dict | None:
        """One request to the participants' API as ``who`` (by its token)."""
        self._market_only()
        tokens = read_tokens(self.tokens_path)
        if who not in tokens:
            raise ConsoleError(f"no token for {who} in {self.tokens_path}")
        request = urllib.request.Request(self.api + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {tokens[who]}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail")
            except ValueError:
                detail = exc.reason
            if isinstance(detail, list):
                detail = "; ".join(str(d.get("msg", d)) for d in detail)
            raise ConsoleError(f"the market refused: {detail} (HTTP {exc.code})") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ConsoleError(f"the participants' API does not answer: {exc}") from None

    def _anyone(self) -> str:
        self._market_only()
        return next(iter(read_tokens(self.tokens_path)), "")

    def clearing(self) -> dict:
        return self._call("GET", "/v1/clearing", self._anyone())

    def book(self) -> dict:
        return self._call("GET", "/v1/book", self._anyone())

    def market(self) -> str:
        status = self.status()
        pays = {}
        if self.api is not None:
            try:
                pays = {d["id"]: d["pays"] for d in self.clearing()["demands"]}
            except ConsoleError:
                pays = {}
        allocated = status.get("allocated_kbps") or {}
        rows = [(d, format_rate(allocated.get(d, 0)) if allocated else "-", pays.get(d, "-"),
                 _route(p, status.get("path_kbps", {}).get(d))) for d, p in status.get("paths", {}).items()]
        head = (f"epoch {status.get('epoch')}, links down: {', '.join(status.get('links_down') or []) or 'none'}"
                + ("" if allocated else " (no market: shortest or hierarchical paths)"))
        return head + "\n" + text_table(("demand", "allocated", "pays", "paths"), rows)

    def paths(self, demand: str) -> str:
        status = self.status()
        if demand not in status.get("paths", {}):
            raise ConsoleError(f"unknown demand {demand!r} (one of: {', '.join(status.get('paths', {}))})")
        paths = status["paths"][demand]
        kbps = status.get("path_kbps", {}).get(demand, [])
        lines = [f"{demand}: {format_rate(status.get('allocated_kbps', {}).get(demand, 0))} allocated"
                 if status.get("allocated_kbps") else f"{demand}: no market"]
        for i, p in enumerate(paths):
            rate = f"  {format_rate(kbps[i])}" if i < len(kbps) else ""
            lines.append(f"  {' > '.join(p) or '(no path)'}{rate}")
        return "\n".join(lines)

    def prices(self) -> str:
        clearing = self.clearing()
        rows = [(l["id"], l["owner"], format_rate(l["allocated_kbps"]), l["price_per_mbps"])
                for l in clearing["links"]]
        return (f"epoch {clearing['epoch']} ({clearing['mechanism']})\n"
                + text_table(("link", "owner", "allocated", "price/Mbps"), rows))

    # --- acting -------------------------------------------------------------
    def _wait(self, done: Callable[[dict], bool], what: str) -> tuple[dict, float]:
        start = self.clock()
        while True:
            status = self.controller.status()
            if status is not None and done(status):
                return status, self.clock() - start
            if self.clock() - start > self.wait_s:
                raise ConsoleError(f"{what}: the controller had not re-planned after {self.wait_s:g} s")
            self.sleep(POLL_S)

    def _link(self, link: str, action: str) -> str:
        if link not in self.scenario.link:
            raise ConsoleError(f"unknown link {link!r} (one of: {', '.join(self.scenario.link)})")
        before = self.status()
        down = set(before.get("links_down") or [])
        if (action == "link_down") == (link in down):
            return f"{link} is already {'down' if link in down else 'up'}"
        from .timeline import link_commands

        for cmd in link_commands(self.scenario, Event(0.0, action, link)):
            if not self.run_link(cmd):
                raise ConsoleError(f"could not run {' '.join(cmd)}")
        want_down = action == "link_down"
        after, took = self._wait(lambda s: (link in (s.get("links_down") or [])) == want_down and s.get("ready"),
                                 f"{'fail' if want_down else 'restore'} {link}")
        moved = changes(before, after)
        return "\n".join([f"{link} {'down' if want_down else 'up'}: re-planned in {took:.2f} s "
                          f"(epoch {after.get('epoch')}, every switch holds the new plan)",
                          *(f"  {m}" for m in moved or ["no demand moved"])])

    def fail(self, link: str) -> str:
        return self._link(link, "link_down")

    def restore(self, link: str) -> str:
        return self._link(link, "link_up")

    def ask(self, link: str, price: str) -> str:
        book = self.book()
        offers = [o for o in book["offers"] if o["link"] == link]
        if not offers:
            raise ConsoleError(f"no offer on link {link!r} in the book")
        for o in offers:
            self._call("PATCH", f"/v1/offers/{o['id']}", o["seller"], {"ask_per_mbps": price})
        return (f"{', '.join(o['id'] for o in offers)} on {link} ({offers[0]['seller']}): asks {price} per Mbps "
                f"from epoch {book['epoch']} (`epoch` clears now)")

    def bid(self, demand: str, rate: str, value: str) -> str:
        book = self.book()
        mine = [d for d in book["demands"] if d["id"] == demand]
        if not mine:
            raise ConsoleError(f"unknown demand {demand!r} (one of: {', '.join(d['id'] for d in book['demands'])})")
        self._call("PATCH", f"/v1/demands/{demand}", mine[0]["buyer"], {"max_rate": rate, "value_per_mbps": value})
        return (f"{demand} ({mine[0]['buyer']}): bids for {rate} at {value} per Mbps from epoch {book['epoch']} "
                "(`epoch` clears now)")

    def epoch(self) -> str:
        before = self.status()
        self.controller.post("/epoch", {})
        after, took = self._wait(lambda s: s.get("epoch", 0) > before.get("epoch", 0) and s.get("ready"), "epoch")
        moved = changes(before, after)
        return "\n".join([f"epoch {after.get('epoch')}: cleared and installed in {took:.2f} s",
                          *(f"  {m}" for m in moved or ["no allocation or path changed"])])

    def traffic(self, demand: str, seconds: float = 3) -> str:
        from .traffic_phase import offered_rate

        if demand not in self.scenario.demand:
            raise ConsoleError(f"unknown demand {demand!r} (one of: {', '.join(self.scenario.demand)})")
        if not 1 <= seconds <= 60:
            raise ConsoleError("seconds must be between 1 and 60")
        status = self.status()
        allocated = status.get("allocated_kbps") or {}
        d = self.scenario.demand[demand]
        offered = offered_rate(self.scenario, d, allocated)
        split = len(status.get("path_kbps", {}).get(demand, [])) > 1
        slices = status.get("source_port_slices") or FLOWS_PER_DEMAND
        flows = slices if split else FLOWS_PER_DEMAND
        measured = self.measure(self.net, self.scenario, {demand: offered}, seconds,
                                workdir=self.workdir, demands=[d], flows_for=lambda _: flows)
        m = measured[demand]
        if m.error or m.received_kbps is None:
            raise ConsoleError(f"{demand}: the measurement failed: {m.error or 'nothing received'}")
        share = (f" ({100 * m.received_kbps / self.scenario.emulation.emulated_kbps(allocated[demand]):.0f}% of its "
                 f"{format_rate(allocated[demand])} allocation)" if allocated.get(demand) else "")
        loss = "" if m.loss_percent is None else f", loss {m.loss_percent:.1f}%"
        return (f"{demand}: {seconds:g} s at {format_rate(offered)}: received "
                f"{format_rate(round(m.received_kbps))}{share}{loss}")


def _ip_link(cmd: list[str]) -> bool:
    import subprocess

    return subprocess.run(cmd, capture_output=True).returncode == 0


def market_cli(net, session: MarketSession, stdin=None, script: str | None = None):
    """Mininet's console with the market's commands; returns when the user leaves it (with a
    ``script``, Mininet's batch mode: when the file's commands are done)."""
    import sys

    from mininet.cli import CLI
    from mininet.log import lg, setLogLevel

    from topologies.errors import OpenIspError

    def command(name: str, usage: str, arity: tuple[int, int], doc: str):
        def do(self, line: str):
            args = line.split()
            if not arity[0] <= len(args) <= arity[1]:
                print(f"usage: {usage}", file=self.stdout)
                return
            try:
                print(getattr(session, name)(*args), file=self.stdout)
            except OpenIspError as exc:
                print(f"error: {exc}", file=self.stdout)
            self.stdout.flush()
        do.__doc__ = f"{usage}: {doc}"
        return do

    class MarketCLI(CLI):
        prompt = "mininet> "
        do_market = command("market", "market", (0, 0), "the allocation in force: rates, payments, paths")
        do_paths = command("paths", "paths DEMAND", (1, 1), "one demand's paths and the rate on each")
        do_prices = command("prices", "prices", (0, 0), "each link's allocation and price at the last clearing")
        do_fail = command("fail", "fail LINK", (1, 1), "cut a link and show the re-plan")
        do_restore = command("restore", "restore LINK", (1, 1), "bring a link back and show the re-plan")
        do_ask = command("ask", "ask LINK PRICE", (2, 2), "the link's owner asks PRICE per Mbps from the next epoch")
        do_bid = command("bid", "bid DEMAND RATE VALUE", (3, 3),
                         "the buyer bids for RATE (e.g. 3Mbps) at VALUE per Mbps from the next epoch")
        do_epoch = command("epoch", "epoch", (0, 0), "clear now and show what changed")

        def do_traffic(self, line: str):
            """traffic DEMAND [SECONDS]: send the demand's traffic now and show what was received"""
            args = line.split()
            if not 1 <= len(args) <= 2:
                print("usage: traffic DEMAND [SECONDS]", file=self.stdout)
                return
            try:
                seconds = float(args[1]) if len(args) == 2 else 3.0
            except ValueError:
                print(f"error: seconds must be a number, not {args[1]!r}", file=self.stdout)
                return
            try:
                print(session.traffic(args[0], seconds), file=self.stdout)
            except OpenIspError as exc:
                print(f"error: {exc}", file=self.stdout)
            self.stdout.flush()

    level = lg.level
    setLogLevel("output")  # Mininet's own commands print at this level
    try:
        MarketCLI(net, stdin=stdin or sys.stdin, script=script)
    finally:
        lg.setLevel(level)
