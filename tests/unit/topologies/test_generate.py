"""Generated worlds: parameters out of range are refused up front; odd Zoo files still make valid scenarios."""
from __future__ import annotations

import pytest

from topologies.generate import LIMITS, check_parameters, generate_world, import_zoo, to_yaml
from topologies.loader import load_scenario_text
from topologies.units import MAX_KBPS

ZOO = """<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="Network" attr.type="string" for="graph" id="d0" />
  <key attr.name="Longitude" attr.type="double" for="node" id="d1" />
  <key attr.name="Latitude" attr.type="double" for="node" id="d2" />
  <key attr.name="LinkSpeedRaw" attr.type="string" for="edge" id="d6" />
  <graph edgedefault="undirected">
    <data key="d0">{network}</data>
    <node id="0"><data key="d1">1e308</data><data key="d2">NaN</data></node>
    <node id="1"><data key="d1">0</data><data key="d2">0</data></node>
    <node id="2"><data key="d1">180</data><data key="d2">0</data></node>
    <edge source="0" target="1"><data key="d6">fast</data></edge>
    <edge source="1" target="2"><data key="d6">1e30</data></edge>
    <edge source="2" target="2"><data key="d6">inf</data></edge>
  </graph>
</graphml>
"""


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_each_parameter_is_refused_outside_its_limits_by_its_option_name(key):
    low, high = LIMITS[key]
    option = "--hosts" if key == "hosts_per_last_mile" else "--" + key.replace("_", "-")
    for bad in (low - 1, high + 1):
        with pytest.raises(ValueError, match=f"^{option} must be between {low} and {high}, got {bad}$"):
            check_parameters(**{key: bad})
    check_parameters(**{key: low})


def test_worlds_too_big_to_check_quickly_are_refused():
    with pytest.raises(ValueError, match="switches; at most 10,000"):
        check_parameters(backbones=99, backbone_switches=999)
    with pytest.raises(ValueError, match="direct links; at most 50,000"):
        generate_world(last_miles=512, content=0, direct_probability=1.0)


@pytest.mark.parametrize("network", ["Tinynet", "3Com", "LM1", "Zürich net", "a\nb"])
def test_an_odd_zoo_file_still_makes_a_valid_scenario(tmp_path, network):
    path = tmp_path / "odd.graphml"
    path.write_text(ZOO.format(network=network))
    s = load_scenario_text(to_yaml(import_zoo(str(path), last_miles=2, hosts_per_last_mile=1, demands=1)), "zoo.yaml")
    backbone = s.participants[0].name
    assert backbone[0].isalpha() and backbone.isascii() and s.participant[backbone].role == "backbone"
    z1_z2, z2_z3 = s.links[:2]  # the loop z3-z3 is no link
    assert z1_z2.capacity_kbps == 1_000_000 and z1_z2.latency_ms == 1.0  # no speed, no coordinates
    assert z2_z3.capacity_kbps == MAX_KBPS and 99 < z2_z3.latency_ms < 101  # half the equator


def test_empty_lists_are_written_as_empty_lists():
    data = generate_world(demands=0)
    assert "\ndemands: []\n" in to_yaml(data)
    assert load_scenario_text(to_yaml(data), "g.yaml").demands == ()
