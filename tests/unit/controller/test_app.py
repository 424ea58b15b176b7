"""The os-ken shim: a switch is known by the id its features reply carries, and a
handler that fails is logged without ending the app's event loop."""
from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER

from controller.app import OpenIspApp


class Core:
    """Records what the shim asks of it; ``fail`` makes the next ``connected`` raise."""

    def __init__(self):
        self.connected_dpids: list = []
        self.fail = 0
        self.seen = threading.Event()

    def connected(self, dpid, now):
        if self.fail:
            self.fail -= 1
            raise RuntimeError("a bug in the core")
        self.connected_dpids.append(dpid)
        self.seen.set()
        return {}

    def tick(self, now):
        return {}

    def clearing_request(self, now):
        return None

    def take_retired(self):
        return []


def features(dpid: int, known: bool = False):
    """A features reply whose datapath has not been given its id yet (``known``: it has):
    os-ken queues the event to the apps before its own handler sets ``datapath.id``."""
    datapath = SimpleNamespace(id=dpid if known else None)
    return ofp_event.EventOFPSwitchFeatures(SimpleNamespace(datapath=datapath, datapath_id=dpid))


@pytest.fixture
def app():
    core = Core()
    app = OpenIspApp(core=core)
    yield app
    app.is_active = False  # the ticker stops at its next tick


def test_a_switch_is_connected_by_the_id_in_its_features_reply_before_os_ken_sets_it(app):
    ev = features(0x2a)
    app.switch_features(ev)
    assert app.core.connected_dpids == [0x2a]
    assert app.datapaths == {0x2a: ev.msg.datapath}
    assert ev.msg.datapath.id == 0x2a  # what os-ken's own handler sets, a moment later


def test_a_failing_handler_is_logged_and_the_event_loop_goes_on(app, caplog):
    """The race above once raised in the handler, which ended the app's event loop: a
    restarted controller then never saw a switch connect (CI, 2026-11-28)."""
    app_manager.register_app(app)
    try:
        app.start()
        app.core.fail = 1
        app._send_event(features(1, known=True), CONFIG_DISPATCHER)
        app._send_event(features(2, known=True), CONFIG_DISPATCHER)
        assert app.core.seen.wait(5), "the event after the failing one was never handled"
        assert app.core.connected_dpids == [2]
        assert "switch_features failed on EventOFPSwitchFeatures" in caplog.text
        assert "a bug in the core" in caplog.text
    finally:
        app.stop()
        app_manager.unregister_app(app)
    assert not any(t.is_alive() for t in app.threads)  # the event loop and the ticker both ended
