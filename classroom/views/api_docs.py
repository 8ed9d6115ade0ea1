"""The API docs page: the OpenAPI schema rendered as plain HTML (no scripts, works under a strict CSP)."""

from functools import lru_cache

from django.shortcuts import render
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_ref_name(schema.get('items'))}"
    if "allOf" in schema:
        return " ".join(_ref_name(x) for x in schema["allOf"])
    return schema.get("format") or schema.get("type", "")


def _field_type(prop: dict) -> str:
    kind = _ref_name(prop)
    if prop.get("nullable") or any(x.get("type") == "null" for x in prop.get("oneOf", [])):
        kind += ", or null"
    if "enum" in prop:
        kind += ": " + ", ".join(str(v) for v in prop["enum"] if v not in ("", None))
    return kind


@lru_cache(maxsize=1)
def _docs_context() -> dict:
    # Developer docs, in English on purpose: built once, whatever language the first reader has.
    with translation.override("en"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            body = op.get("requestBody", {}).get("content", {})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _ref_name(p.get("schema")),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": [(ctype, _ref_name(c.get("schema"))) for ctype, c in body.items()],
                    "responses": [
                        (
                            code,
                            r.get("description", ""),
                            _ref_name(next(iter(r.get("content", {}).values()), {}).get("schema")),
                        )
                        for code, r in op.get("responses", {}).items()
                    ],
                }
            )
    components = [
        {
            "name": name,
            "description": comp.get("description", ""),
            "fields": [
                {
                    "name": field,
                    "type": _field_type(prop),
                    "required": field in comp.get("required", []),
                    "read_only": prop.get("readOnly", False),
                    "description": prop.get("description", ""),
                }
                for field, prop in comp.get("properties", {}).items()
            ],
        }
        for name, comp in sorted(schema.get("components", {}).get("schemas", {}).items())
        if comp.get("type") == "object"
    ]
    return {"info": schema["info"], "operations": operations, "components": components}


def docs(request):
    return render(request, "api/docs.html", _docs_context())
