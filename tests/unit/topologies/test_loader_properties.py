"""Random and mutated scenario files: only ScenarioError comes out, invalid never passes."""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from topologies.errors import ScenarioError
from topologies.loader import build_scenario, load_scenario_text

settings.register_profile("loader", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("loader-thorough", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = "loader-thorough" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "loader"

BASE = yaml.safe_load(Path("topologies/default.yaml").read_text())
SECTIONS = ["participants", "switches", "hosts", "links", "offers", "demands"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["10Mbps", "0", "-1kbps", "198.18.0.0/24", "h1", "mn1"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


@settings.get_profile(PROFILE)
@given(values)
def test_any_yaml_value_gives_a_scenario_or_a_scenario_error(value):
    try:
        text = yaml.safe_dump(value)
    except yaml.YAMLError:
        return
    try:
        load_scenario_text(text, "random.yaml")
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


@settings.get_profile(PROFILE)
@given(st.sampled_from(SECTIONS), st.data(), values)
def test_any_field_replaced_by_anything_never_crashes(section, data, value):
    doc = copy.deepcopy(BASE)
    item = data.draw(st.sampled_from(doc[section]))
    key = data.draw(st.sampled_from(sorted(item)))
    item[key] = value
    try:
        build_scenario(doc, {}, "mutated.yaml")
    except ScenarioError:
        pass


BREAKERS = {
    "unknown key": lambda item, k: item.__setitem__("surprise", 1),
    "missing required key": lambda item, k: item.pop(k),
    "unknown reference": lambda item, k: item.__setitem__(k, "nowhere"),
}
REFERENCES = {"switches": ["owner"], "hosts": ["owner", "switch"], "links": ["a", "b", "owner"],
              "offers": ["link"], "demands": ["src", "dst"]}


@settings.get_profile(PROFILE)
@given(st.sampled_from(sorted(REFERENCES)), st.sampled_from(sorted(BREAKERS)), st.data())
def test_broken_files_are_never_accepted(section, breaker, data):
    doc = copy.deepcopy(BASE)
    index = data.draw(st.integers(0, len(doc[section]) - 1))
    key = data.draw(st.sampled_from(REFERENCES[section]))
    BREAKERS[breaker](doc[section][index], key)
    with pytest.raises(ScenarioError) as info:
        build_scenario(doc, {}, "broken.yaml")
    assert any(p.path.startswith(f"{section}[{index}]") for p in info.value.problems)


@settings.get_profile(PROFILE)
@given(st.sampled_from(["links", "offers", "demands"]), st.data(),
       st.sampled_from([0, -5, "0Mbps", "-3Mbps", "lots", True, None]))
def test_non_positive_or_nonsense_rates_are_refused(section, data, bad):
    doc = copy.deepcopy(BASE)
    key = {"links": "capacity", "offers": "capacity", "demands": "max_rate"}[section]
    index = data.draw(st.integers(0, len(doc[section]) - 1))
    doc[section][index][key] = bad
    with pytest.raises(ScenarioError):
        build_scenario(doc, {}, "rates.yaml")
