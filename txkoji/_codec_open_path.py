"""The check of a document still being parsed: the path of its open
elements (from the root down each element's last child), where the
decoder refuses what is out of place as soon as it is parsed, and
converts (and drops) the values already complete."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from txkoji._codec_values import (
    MAX_DEPTH,
    MEMBER_PROBLEM,
    Invalid,
    Plan,
    fill_array,
    fill_struct,
    leaf_for,
)

#: The elements that may hold each element above an answer's value.
_ABOVE_VALUE = {
    "document": ("methodResponse",),
    "methodResponse": ("params", "fault"),
    "params": ("param",),
    "param": ("value",),
    "fault": ("value",),
}


def convert_open_path(
    document: Element, plan: Plan, fault_plan: Plan, partial: dict[Element, Any]
) -> None:
    """Check the open elements of ``document``, a ``methodResponse`` being
    parsed, and convert the complete parts of its value.

    Along the path of the open elements, each element must be in its
    place, hold no more elements than its kind may, and nest no deeper
    than :data:`~txkoji._codec_values.MAX_DEPTH` arrays and structs.  Every
    child of an array or struct on the path but the last is complete: it
    is converted (and checked) and deleted, its value kept in ``partial``
    under its parent.

    :param document: the element holding the document's root.
    :param plan: where the answer's value builds records.
    :param fault_plan: the plan of a fault's value.
    :param partial: the values of arrays and structs partly converted, by
        element.
    :raises Invalid: for the first element out of place.
    """
    node, value_plan = document, plan
    while node.tag != "value":
        count = len(node)
        if not count:
            return
        child = node[0]
        if count > 1 or child.tag not in _ABOVE_VALUE[node.tag]:
            raise Invalid(
                f"<{node.tag}> may hold one of "
                + ", ".join(f"<{tag}>" for tag in _ABOVE_VALUE[node.tag]),
                node,
            )
        value_plan = fault_plan if node.tag == "fault" else plan
        node = child
    _convert_complete(node, value_plan, partial)


def _convert_complete(value: Element, plan: Plan, partial: dict[Element, Any]) -> None:
    depth = 0
    while True:
        count = len(value)
        if not count:
            return
        typed = value[0]
        if count > 1:
            raise Invalid("<value> must hold one element", value)
        tag = typed.tag
        if tag != "array" and tag != "struct":
            if leaf_for(tag) is None:
                raise Invalid(f"unknown type <{tag}>", typed)
            if len(typed):
                raise Invalid(f"<{tag}> cannot hold elements", typed)
            return
        if depth >= MAX_DEPTH:
            raise Invalid(f"values nest deeper than {MAX_DEPTH} levels", typed)
        depth += 1
        if tag == "array":
            count = len(typed)
            if not count:
                return
            data = typed[0]
            if count > 1 or data.tag != "data":
                raise Invalid("<array> must hold one <data>", typed)
            done = len(data) - 1
            if done > 0:
                items = partial.get(data)
                if items is None:
                    items = partial[data] = []
                fill_array(data[:done], items, plan.items, depth, partial)
                del data[:done]
            if done < 0:
                return
            value, plan = data[-1], plan.items
            if value.tag != "value":
                raise Invalid(f"expected <value>, found <{value.tag}>", value)
        else:
            done = len(typed) - 1
            if done > 0:
                obj = partial.get(typed)
                if obj is None:
                    cls = plan.struct_class
                    obj = partial[typed] = cls.__new__(cls)
                fill_struct(typed[:done], obj, plan.members, depth, partial)
                del typed[:done]
            if done < 0:
                return
            member = typed[-1]
            count = len(member)
            if member.tag != "member" or count > 2:
                raise Invalid(MEMBER_PROBLEM, member)
            if count and (member[0].tag != "name" or len(member[0])):
                raise Invalid(MEMBER_PROBLEM, member)
            if count < 2:
                return
            value, plan = member[1], plan.members
            if value.tag != "value":
                raise Invalid(MEMBER_PROBLEM, member)
