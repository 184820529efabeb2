"""Hypothesis strategies for the JSON documents a JSON schema accepts, for
the constructs the koji-fedoramessaging-messages schemas use: ``type``
(one or a list), ``properties``, ``required``, ``items``, ``$defs``,
``$anchor`` and ``$ref`` (a JSON pointer or an anchor, recursive ones
included).  Properties a schema does not name are allowed, as JSON schema
allows them: some documents carry a few extra keys.

(hypothesis-jsonschema would do this, but its current release neither
runs on current Hypothesis nor resolves recursive references.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

#: Any JSON value (small), for properties a schema does not describe.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.text(max_size=6), inner, max_size=2)
    ),
    max_leaves=4,
)
_ALL_TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]
#: How deep recursive schemas (a task's children) go.
_MAX_DEPTH = 2


def _anchors(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, Mapping):
        if "$anchor" in schema:
            found[schema["$anchor"]] = schema
        for value in schema.values():
            _anchors(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _anchors(value, found)
    return found


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for documents ``schema`` accepts."""
    anchors = _anchors(schema, {})

    def resolve(ref: str) -> Any:
        if ref.startswith("#/"):
            target: Any = schema
            for part in ref[2:].split("/"):
                target = target[part]
            return target
        return anchors[ref[1:]]

    def strategy(node: Mapping[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "$ref" in node:
            return strategy(resolve(node["$ref"]), depth)
        types = node.get("type", _ALL_TYPES)
        if isinstance(types, str):
            types = [types]
        return st.one_of([of_type(kind, node, depth) for kind in types])

    def of_type(
        kind: str, node: Mapping[str, Any], depth: int
    ) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers()
        if kind == "number":
            return st.integers() | st.floats(allow_nan=False, allow_infinity=False)
        if kind == "string":
            return st.text(max_size=20)
        if kind == "array":
            items = node.get("items")
            if depth >= _MAX_DEPTH:
                return st.just([])
            return st.lists(
                JSON if items is None else strategy(items, depth + 1), max_size=3
            )
        return an_object(node, depth)

    def an_object(node: Mapping[str, Any], depth: int) -> st.SearchStrategy[Any]:
        properties = node.get("properties", {})
        required = set(node.get("required", ()))
        named = st.fixed_dictionaries(
            {key: strategy(properties[key], depth) for key in required},
            optional={
                key: strategy(sub, depth)
                for key, sub in properties.items()
                if key not in required
            },
        )
        extra = st.dictionaries(
            st.text(max_size=8).filter(lambda key: key not in properties),
            JSON,
            max_size=2,
        )
        return st.tuples(named, extra).map(lambda pair: {**pair[1], **pair[0]})

    return strategy(schema, 0)
