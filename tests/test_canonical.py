"""Generated documents do not depend on how a library version renders docstrings."""

import json

from server.canonical import canonical
from server.schemagen import generate


def test_raw_and_dedented_docstrings_give_the_same_description():
    raw = {"description": "Enter a community.\n\n    The upgrade needs\n    a cookie.\n    "}
    dedented = {"description": "Enter a community.\n\nThe upgrade needs\na cookie."}
    assert canonical(raw) == canonical(dedented) == dedented


def test_null_goes_last_in_every_any_of_and_nothing_else_moves():
    older = {"properties": {"sync": {"anyOf": [{"type": "null"}, {"$ref": "#/A"},
                                               {"$ref": "#/B"}]}}}
    assert canonical(older)["properties"]["sync"]["anyOf"] == [
        {"$ref": "#/A"}, {"$ref": "#/B"}, {"type": "null"}]


def test_a_property_named_description_is_left_alone():
    schema = {"properties": {"description": {"type": "string", "description": "  x\n  y"}}}
    assert canonical(schema) == {"properties": {"description": {
        "type": "string", "description": "x\ny"}}}


def test_no_generated_description_keeps_source_indentation():
    for name, text in generate().items():
        if not name.endswith(".json"):
            continue

        def walk(node, name=name):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "description" and isinstance(value, str):
                        assert "\n    " not in value, (name, value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(json.loads(text))
