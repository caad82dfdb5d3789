"""api.openapi.hoist_defs: nested $defs move to components/schemas, references follow."""

from typing import Any

from dialer.api.openapi import hoist_defs


def _document(body: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    operation = {"requestBody": {"content": {"application/json": {"schema": body}}}}
    return {"paths": {"/x": {"post": operation}}, "components": {"schemas": schemas}}


def _body(document: dict[str, Any]) -> Any:
    return document["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_nested_defs_move_to_components_and_references_follow() -> None:
    body = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "$defs": {
            "Item": {"properties": {"tag": {"$ref": "#/$defs/Tag"}}},
            "Tag": {"type": "string"},
        },
    }
    document = _document(body, {})
    hoist_defs(document)
    assert "$defs" not in _body(document)
    assert _body(document)["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Item"}
    assert document["components"]["schemas"] == {
        "Item": {"properties": {"tag": {"$ref": "#/components/schemas/Tag"}}},
        "Tag": {"type": "string"},
    }


def test_a_name_taken_by_the_same_schema_is_shared_and_by_another_is_numbered() -> None:
    existing = {
        "Same": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/Tag"}}},
        "Tag": {"type": "string"},
        "Other": {"type": "integer"},
    }
    body = {
        "anyOf": [{"$ref": "#/$defs/Same"}, {"$ref": "#/$defs/Other"}],
        "$defs": {
            "Same": {"type": "object", "properties": {"a": {"$ref": "#/$defs/Tag"}}},
            "Tag": {"type": "string"},
            "Other": {"type": "boolean"},
        },
    }
    document = _document(body, dict(existing))
    hoist_defs(document)
    assert _body(document) == {
        "anyOf": [
            {"$ref": "#/components/schemas/Same"},
            {"$ref": "#/components/schemas/Other2"},
        ]
    }
    schemas = document["components"]["schemas"]
    assert schemas == {**existing, "Other2": {"type": "boolean"}}
