"""Start-up on taken ports, and the controller process's own account of why it is not ready.

os-ken's OpenFlow listener dies quietly in its thread when its port is taken: the
controller used to run on, answering ``/status`` with no switch ever connected, until
whoever waited gave up after a minute with nothing to go on.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from dataplane.controllerproc import ControllerProcess, free_port
from dataplane.errors import DataplaneError
from openisp.cli import main

from .tiny import promptly


@pytest.fixture
def taken():
    """A port something listens on, as os-ken and the HTTP servers listen."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize("flag", ["--ofp-port", "--status-port", "--api-port"])
def test_a_controller_refuses_to_start_on_a_taken_port_and_says_which(flag, taken, capsys):
    ports = {"--ofp-port": free_port(), "--status-port": free_port(), flag: taken}
    argv = ["controller", "topologies/default.yaml", *(str(x) for kv in ports.items() for x in kv)]
    code = promptly(main, argv, seconds=20)  # the controller would otherwise run until stopped
    assert code == 1
    assert capsys.readouterr().err == (
        f"openisp controller: cannot listen on 127.0.0.1:{taken} ({flag}): Address already in use; "
        f"another controller may be running there, or choose another {flag}\n")


def test_ports_are_free_after_the_check():
    from controller.launch import ensure_free

    ports = {"--ofp-port": free_port(), "--status-port": free_port(), "--api-port": 0}
    ensure_free("127.0.0.1", ports)
    ensure_free("127.0.0.1", ports)  # the check leaves nothing bound behind it
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports["--ofp-port"]))


def test_free_port_never_hands_the_same_port_out_twice(monkeypatch):
    import dataplane.controllerproc as controllerproc

    offered = iter([40001, 40001, 40002, 40001, 40003])

    class Kernel:  # a kernel that offers a port it just offered
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, address):
            pass

        def getsockname(self):
            return ("127.0.0.1", self.port)

    def fresh_socket(*args):
        kernel = Kernel()
        kernel.port = next(offered)
        return kernel

    monkeypatch.setattr(controllerproc, "_handed_out", set())
    monkeypatch.setattr(controllerproc.socket, "socket", fresh_socket)
    assert [free_port(), free_port(), free_port()] == [40001, 40002, 40003]


def test_a_controller_that_stopped_is_reported_with_its_last_words(tmp_path):
    controller = ControllerProcess("topologies/default.yaml", tmp_path / "controller.log")
    log = controller.log_path
    log.write_text("starting\nopenisp controller: cannot listen on 127.0.0.1:1 (--ofp-port): Address already in use\n")
    controller.proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    controller.proc.wait()
    with pytest.raises(DataplaneError) as caught:
        controller.wait_ready(5)
    assert str(caught.value) == (
        "the controller exited with 1 (openisp controller: cannot listen on 127.0.0.1:1 (--ofp-port): "
        f"Address already in use); see {log}")


def test_switches_never_ready_are_reported_with_what_open_vswitch_says(tmp_path, monkeypatch):
    import dataplane.controllerproc as controllerproc

    clock = iter(range(100))
    controller = ControllerProcess("topologies/default.yaml", tmp_path / "controller.log", ofp_port=7)
    monkeypatch.setattr(controller, "status", lambda: {"connected": 0, "expected": 5, "acknowledged": 0,
                                                      "errors": [], "ready": False})
    monkeypatch.setattr(controllerproc.time, "sleep", lambda s: None)
    monkeypatch.setattr(controllerproc, "switches_view", lambda port: f"5 bridges point at tcp:127.0.0.1:{port}")
    with pytest.raises(DataplaneError) as caught:
        controller.wait_ready(3, clock=lambda: next(clock))
    assert str(caught.value) == (
        "switches not ready after 3 s (switches connected 0/5, holding rules 0/5); "
        f"Open vSwitch says: 5 bridges point at tcp:127.0.0.1:7; see {controller.log_path}")


def test_a_controller_that_never_gets_ready_has_its_threads_dumped_in_its_log(tmp_path):
    """A stuck controller says what it waits on: ``wait_ready`` sends it SIGUSR1 on timeout,
    and ``openisp controller`` writes every thread's stack to its log on SIGUSR1."""
    controller = ControllerProcess("topologies/default.yaml", tmp_path / "controller.log").start()
    try:
        deadline = time.monotonic() + 30
        while controller.status() is None and time.monotonic() < deadline:  # up, with no switch to wait for
            time.sleep(0.2)
        with pytest.raises(DataplaneError) as caught:
            controller.wait_ready(1)
        assert "; the controller's threads are dumped in its log; see " in str(caught.value)
        log = controller.log_path.read_text()
        assert "Thread 0x" in log and "in _ticker" in log, log[-2000:]  # the app's ticker, asleep between ticks
        assert controller.proc.poll() is None  # the dump does not stop it
    finally:
        controller.stop()
    assert not controller.dump_threads()  # nothing to ask once it has stopped


class Served:
    def __init__(self, port):
        self.port, self.stopped = port, False

    def stop(self):
        self.stopped = True


class Kernel:
    """An exchange whose API gets the ports ``offered`` in turn when asked for any (0)."""

    def __init__(self, *offered):
        self.offered, self.served = list(offered), []

    def serve(self, port):
        self.served.append(Served(port or self.offered.pop(0)))
        return self.served[-1]


def test_the_api_never_takes_the_port_openflow_is_about_to_listen_on():
    from controller.launch import serve_api

    kernel = Kernel(6653, 6653, 41000)
    api = serve_api(kernel, 0, avoid={6653})
    assert api.port == 41000 and not api.stopped
    assert [s.stopped for s in kernel.served] == [True, True, False]  # the two it was handed back
    assert serve_api(Kernel(), 6653, avoid={6653}).port == 6653  # a port asked for is that port


def test_the_api_gives_up_after_a_few_ports_and_says_why():
    from controller.errors import ControllerError
    from controller.launch import serve_api

    kernel = Kernel(*[6653] * 5)
    with pytest.raises(ControllerError) as caught:
        serve_api(kernel, 0, avoid={6653, 8661}, tries=5)
    assert str(caught.value) == "the participants' API found no free port but 6653, 8661"
    assert len(kernel.served) == 5 and all(s.stopped for s in kernel.served)


def test_the_status_port_is_taken_before_the_api_asks_for_any_free_port(tmp_path, monkeypatch, capsys):
    """Else the kernel can hand the API the status port, free until then (CI, 2026-11-28)."""
    import controller.launch as launch
    from controller.errors import ControllerError

    status_port, seen = free_port(), []

    def serve_api(exchange, port, avoid):
        with socket.socket() as probe:
            seen.append(probe.connect_ex(("127.0.0.1", status_port)))  # 0: someone listens there
        raise ControllerError("stopped here by the test")

    monkeypatch.setattr(launch, "serve_api", serve_api)
    argv = ["controller", "topologies/default.yaml", "--ofp-port", str(free_port()), "--status-port", str(status_port),
            "--run-dir", str(tmp_path)]
    assert promptly(main, argv, seconds=60) == 1
    assert seen == [0]
    assert "stopped here by the test" in capsys.readouterr().err
    with socket.socket() as s:  # and the status server is shut down on the way out
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", status_port))
