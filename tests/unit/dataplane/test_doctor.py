from dataplane.doctor import Finding, report


def test_missing_required_piece_means_cannot_run_and_shows_the_fix():
    text, ok = report([Finding("root", True, "uid 0"), Finding("Open vSwitch", False, "not found", "apt-get install openvswitch-switch")])
    assert not ok
    assert "MISSING Open vSwitch" in text and "fix: apt-get install openvswitch-switch" in text


def test_optional_gaps_do_not_stop_the_emulation():
    text, ok = report([Finding("tc netem", False, "absent", "a kernel with sch_netem", required=False)])
    assert ok and "note" in text
