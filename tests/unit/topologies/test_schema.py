"""One truth for the language: the loader and ``schema.json`` accept the same files.

``schema.json`` is written from :mod:`topologies.language`; the loader reads
with the same declarations.  Hypothesis checks both directions on generated
documents: whatever ``check`` accepts validates against the schema, and for
every value the schema can judge alone, a value the schema accepts the loader
accepts (what the schema cannot see, references between names and the like,
is kept consistent by the generator).

The schema is read as a JSON Schema validator reads it: on JSON data (``.nan``
and ``.inf`` have no JSON form) with ECMA-262 patterns (``^...$`` matches the
whole string; Python's ``re.search`` would let ``"a\\n"`` through).
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from jsonschema import validators

from topologies import language
from topologies.errors import ScenarioError
from topologies.loader import TOP_KEYS, build_scenario
from topologies.yamlsource import read_yaml_file

SCHEMA = json.loads(Path("topologies/schema.json").read_text())
FILES = ["topologies/default.yaml", *sorted(str(p) for p in Path("topologies/library").glob("*.yaml"))]
PROFILE = settings(max_examples=3000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 150,
                   deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _whole_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.fullmatch(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


VALIDATOR = validators.extend(jsonschema.Draft202012Validator, {"pattern": _whole_pattern})(SCHEMA)


def schema_accepts(data) -> bool:
    try:
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        return False
    return VALIDATOR.is_valid(json.loads(text))


def loader_accepts(data) -> bool:
    try:
        build_scenario(data, {}, "generated.yaml")
    except ScenarioError:
        return False
    return True


def test_schema_json_is_written_from_the_language():
    assert Path("topologies/schema.json").read_text() == language.schema_text(), \
        "run: .venv/bin/python -m topologies.language > topologies/schema.json"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["properties"]) == TOP_KEYS


@pytest.mark.parametrize("path", FILES)
def test_library_files_follow_the_schema(path):
    assert schema_accepts(read_yaml_file(path)[0])


# --- loader accepts => schema accepts, on any mutation --------------------------------------------
BASES = {f: read_yaml_file(f)[0] for f in FILES if "large" not in f}
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["10Mbps", "0", "0kbps", "1.5 gbit/s", "0.5kbps", "1e30", "1000000",
                                           "198.18.0.0/24", "198.18.1.1", "h1", "mn1", "vcg", "a\n", "ünï"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def paths(value, at=()):
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, at + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, at + (i,))


def put(doc, path, value):
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = value


@PROFILE
@given(st.sampled_from(sorted(BASES)), st.data(), values, st.sampled_from(["replace", "delete", "add"]))
def test_whatever_check_accepts_validates_against_the_schema(base, data, value, how):
    doc = copy.deepcopy(BASES[base])
    path = data.draw(st.sampled_from([p for p in paths(doc) if p]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if how == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=8))] = value
    else:
        put(doc, path, value)
    if loader_accepts(doc):
        assert schema_accepts(doc), (path, how, value)


# --- schema accepts => loader accepts, for values the schema can judge alone ----------------------
ODD = [" ", "\t", "\n", "\r", "\u00a0", "\u2003", "0", ".", "-", "/", "ß", "a", "9", "\u0663", "\uff11", "e"]


def near(pattern: str):
    """Strings that match ``pattern``, and the same strings slightly broken (inside or at either end)."""
    good = st.from_regex(pattern, fullmatch=True)
    return st.one_of(good, st.builds(lambda s, i, c: s[:i] + c + s[i:], good, st.integers(0, 20), st.sampled_from(ODD)),
                     st.builds(lambda s, c: s + c, good, st.sampled_from(ODD)),
                     st.builds(lambda s, c: c + s, good, st.sampled_from(ODD)))


rates = st.one_of(st.integers(-2, language.MAX_KBPS + 2),
                  st.floats(0, 2e9), near(language.rate_pattern()), near(language.rate_pattern(zero=True)),
                  st.sampled_from(["0", "0Mbps", "1Tbps", "999.999999Gbps", "1000Gbps", "1.0005Mbps"]))
money = st.one_of(st.integers(-2, 10**6 + 2), st.floats(-1, 2e6), near(language.MONEY_PATTERN),
                  st.sampled_from(["1e30", "0.0000001", "999999.999999", "-0"]))
numbers = st.one_of(st.integers(-2, 2 * 10**6), st.floats(allow_nan=True, allow_infinity=True))
names = st.one_of(near(language.NAME_PATTERN), st.sampled_from(["a" * 10, "a" * 11, "a" * 64, "a" * 65, "ünï"]))
KIND = {"RATE": rates, "RATE_OR_ZERO": rates, "MONEY": money, "NUMBER": numbers, "TEXT": st.one_of(st.text(), values),
        "DPID": st.one_of(st.integers(-1, 2**64 + 1), st.floats()), "MECHANISM": st.one_of(values, st.sampled_from(
            list(language.MECHANISMS) + ["VCG"]))}
DEFAULT = read_yaml_file("topologies/default.yaml")[0]
FREE = [(("name",), st.one_of(near(language.SCENARIO_NAME_PATTERN), values)), (("description",), KIND["TEXT"]),
        *((("switches", i, "city"), KIND["TEXT"]) for i in range(len(DEFAULT["switches"]))),
        *((("switches", i, "dpid"), KIND["DPID"]) for i in range(len(DEFAULT["switches"]))),
        *((("links", i, k), KIND[kind]) for i in range(len(DEFAULT["links"]))
          for k, kind in (("latency_ms", "NUMBER"), ("capacity", "RATE"))),
        *((("hosts", i, "access"), KIND["RATE"]) for i in range(len(DEFAULT["hosts"]))),
        *((("offers", i, "ask_per_mbps"), KIND["MONEY"]) for i in range(len(DEFAULT["offers"]))),
        *((("demands", i, "value_per_mbps"), KIND["MONEY"]) for i in range(len(DEFAULT["demands"]))),
        *((("demands", i, "max_rate"), KIND["RATE"]) for i, d in enumerate(DEFAULT["demands"]) if "floor" not in d),
        (("market", "mechanism"), KIND["MECHANISM"]), (("market", "epoch_s"), KIND["NUMBER"]),
        (("market", "universal_floor"), KIND["RATE_OR_ZERO"]), (("emulation", "scale"), KIND["NUMBER"])]
RENAMES = {"switches": ("name", [("hosts", "switch"), ("links", "a"), ("links", "b")]),
           "hosts": ("name", [("demands", "src"), ("demands", "dst")]),
           "participants": ("name", [("switches", "owner"), ("hosts", "owner"), ("links", "owner")]),
           "links": ("id", [("offers", "link")]), "demands": ("id", [])}


@PROFILE
@given(st.data())
def test_a_value_the_schema_accepts_the_loader_accepts(data):
    doc = copy.deepcopy(DEFAULT)
    path, strategy = data.draw(st.sampled_from(FREE))
    value = data.draw(strategy)
    if path[-1] == "dpid":
        assume(value not in range(1, len(doc["switches"]) + 1))  # a duplicate dpid: the schema cannot see it
    put(doc, path, value)
    assert schema_accepts(doc) == loader_accepts(doc), (path, value)


@PROFILE
@given(st.sampled_from(sorted(RENAMES)), st.data(), names)
def test_a_name_the_schema_accepts_the_loader_accepts(section, data, new):
    doc = copy.deepcopy(DEFAULT)
    key, references = RENAMES[section]
    item = data.draw(st.sampled_from(doc[section]))
    taken = {x.get(k) for s, k in (("switches", "name"), ("hosts", "name"), ("participants", "name"),
                                   ("links", "id"), ("demands", "id")) for x in doc[s]}
    assume(new not in taken and new not in language.RESERVED_NODE_NAMES)  # uniqueness: beyond a schema
    old, item[key] = item[key], new
    for ref_section, ref_key in references:
        for ref in doc[ref_section]:
            if ref.get(ref_key) == old:
                ref[ref_key] = new
    assert schema_accepts(doc) == loader_accepts(doc), (section, new)
