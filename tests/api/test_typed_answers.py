"""Every /api/v1 operation publishes the shape of its answer: a client can be generated from the spec."""

from typing import Any

from fastapi import FastAPI


def _bare(schema: dict[str, Any]) -> bool:
    """`{}` or an object that says nothing of its keys (what `dict[str, Any]` publishes)."""
    if not schema or set(schema) <= {"title", "description"}:
        return True
    return (
        schema.get("type") == "object"
        and "properties" not in schema
        and schema.get("additionalProperties", True) is True
    )


def test_every_api_operation_publishes_its_answer_schema(app: FastAPI) -> None:
    spec = app.openapi()
    missing = []
    operations = 0
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in methods.items():
            operations += 1
            schemas = [
                content.get("schema", {})
                for status, response in operation["responses"].items()
                if status.startswith("2")
                for content in (response.get("content") or {}).values()
            ]
            if not schemas or any(_bare(s) for s in schemas):
                missing.append(f"{method.upper()} {path}")
    assert operations >= 37
    assert missing == []


def test_a_bare_dict_is_told_from_a_typed_answer() -> None:
    assert _bare({}) and _bare({"type": "object", "additionalProperties": True, "title": "Response Me"})
    assert not _bare({"$ref": "#/components/schemas/MeOut"})
    assert not _bare({"type": "string", "format": "binary"})
