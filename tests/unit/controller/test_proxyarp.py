from controller.proxyarp import arp_reply_for
from topologies.loader import load_scenario

S = load_scenario("topologies/default.yaml")


def test_known_host_gets_the_targets_mac():
    reply = arp_reply_for(S, 1, "02:00:00:00:00:01", "198.18.1.1", "198.18.3.1")
    assert reply.src_mac == S.host_by_ip["198.18.3.1"].mac
    assert (reply.dst_mac, reply.dst_ip) == ("02:00:00:00:00:01", "198.18.1.1")


def test_spoofed_sender_unknown_target_and_replies_are_ignored():
    assert arp_reply_for(S, 1, "02:00:00:00:00:99", "198.18.1.1", "198.18.3.1") is None
    assert arp_reply_for(S, 1, "02:00:00:00:00:01", "198.18.1.1", "198.18.7.7") is None
    assert arp_reply_for(S, 2, "02:00:00:00:00:01", "198.18.1.1", "198.18.3.1") is None
