"""The JSON Schema and the loader describe the same language."""
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from topologies.loader import TOP_KEYS

SCHEMA = json.loads(Path("topologies/schema.json").read_text())
FILES = ["topologies/default.yaml", *sorted(str(p) for p in Path("topologies/library").glob("*.yaml"))]


@pytest.mark.parametrize("path", FILES)
def test_library_files_follow_the_schema(path):
    jsonschema.validate(yaml.safe_load(Path(path).read_text()), SCHEMA)


def test_schema_and_loader_know_the_same_top_level_keys():
    assert set(SCHEMA["properties"]) == TOP_KEYS


def test_schema_rejects_unknown_keys_and_bad_rates():
    data = yaml.safe_load(Path("topologies/default.yaml").read_text())
    data["switches"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    data = yaml.safe_load(Path("topologies/default.yaml").read_text())
    data["links"][0]["capacity"] = "fast"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
