import json
import urllib.request

from controller.status import ControllerStatus, serve_status


def test_ready_only_when_every_expected_switch_acknowledged():
    s = ControllerStatus({1: "a", 2: "b"})
    s.connected(1)
    s.acknowledged(1, rules=4)
    assert not s.snapshot()["ready"]
    s.connected(2)
    s.acknowledged(2, rules=4)
    assert s.snapshot()["ready"]
    s.disconnected(2)
    assert not s.snapshot()["ready"]


def test_status_is_served_as_json_on_loopback():
    status = ControllerStatus({1: "a"}, paths={"d1": ["a"]})
    server = serve_status(status, 0)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as r:
            body = json.load(r)
        assert body["expected"] == 1 and body["paths"] == {"d1": ["a"]} and body["ready"] is False
    finally:
        server.shutdown()
