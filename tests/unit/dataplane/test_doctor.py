import subprocess

import pytest

from dataplane import doctor
from dataplane.doctor import Finding, report


def test_missing_required_piece_means_cannot_run_and_shows_the_fix():
    text, ok = report([Finding("root", True, "uid 0"), Finding("Open vSwitch", False, "not found", "apt-get install openvswitch-switch")])
    assert not ok
    assert "MISSING Open vSwitch" in text and "fix: apt-get install openvswitch-switch" in text


def test_optional_gaps_do_not_stop_the_emulation():
    text, ok = report([Finding("tc netem", False, "absent", "a kernel with sch_netem", required=False)])
    assert ok and "note" in text


# --- the traffic-control probe reads every step's exit status --------------------------------------

def fake_machine(monkeypatch, failing: dict[str, str]):
    """A root machine with iproute2 where the commands containing a key of ``failing`` fail with its text."""
    ran = []

    def run(cmd, timeout=10):
        ran.append(cmd)
        line = " ".join(cmd)
        for words, stderr in failing.items():
            if words in line:
                return subprocess.CompletedProcess(cmd, 2, "", stderr)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(doctor.os, "geteuid", lambda: 0)
    monkeypatch.setattr(doctor.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(doctor, "_run", run)
    return ran


@pytest.mark.parametrize("failing, name, words", [
    ({"netns add": "mount --make-shared /run/netns failed: Operation not permitted"}, "network namespaces",
     "`ip netns add` failed: mount --make-shared /run/netns failed: Operation not permitted"),
    ({"type veth": "Error: Unknown device type."}, "veth pairs", "Error: Unknown device type."),
])
def test_a_namespace_or_veth_failure_is_reported_as_itself_not_as_htb(monkeypatch, failing, name, words):
    ran = fake_machine(monkeypatch, failing)
    findings = doctor.check_tc()
    assert [(f.name, f.ok, f.required) for f in findings] == [(name, False, True)]
    assert words in findings[0].detail and "htb" not in findings[0].name
    assert ran[-1][:3] == ["ip", "netns", "del"]  # cleaned up whatever happened


def test_htb_and_netem_are_judged_by_their_own_commands(monkeypatch):
    fake_machine(monkeypatch, {"netem": "Error: Specified qdisc kind is unknown."})
    htb, netem = doctor.check_tc()
    assert (htb.name, htb.ok) == ("tc htb", True)
    assert (netem.name, netem.ok, netem.required) == ("tc netem", False, False)
    fake_machine(monkeypatch, {"htb": "Error: Specified qdisc kind is unknown."})
    htb, netem = doctor.check_tc()
    assert not htb.ok and "HTB qdisc refused: Error: Specified qdisc kind is unknown." in htb.detail and netem.ok


def test_a_command_that_cannot_run_is_a_failure_too(monkeypatch):
    fake_machine(monkeypatch, {})
    monkeypatch.setattr(doctor, "_run", lambda cmd, timeout=10: None)
    (finding,) = doctor.check_tc()
    assert finding.name == "network namespaces" and "could not run" in finding.detail
