"""Koji message-bus messages, as rich objects.

Each type reads a STOMP frame (``from_frame(frame, connection)``, the
messagebus plugin's format that txkoji 0.10 read) and a protonmsg AMQP
message (``from_message(message, connection)``: properties and a JSON
body).  :func:`parse_frame` and :func:`parse_message` pick the type from
the ``type`` header::

    msg = parse_message({"properties": props, "body": body}, koji)
    if isinstance(msg, BuildStateChange) and msg.event == "COMPLETE":
        print(msg.url)

Code that polls the hub makes the same events from records with
:meth:`StateChange.from_record`::

    event = TaskStateChange.from_record(task, "OPEN", "CLOSED", connection=koji)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from txkoji.messages.base import (
    MalformedMessage,
    Message,
    StateChange,
    UnknownMessageType,
    amqp_parts,
    frame_parts,
    message_type,
)
from txkoji.messages.builds import (
    BuildPromote,
    BuildStateChange,
    Import,
    RPMSign,
    TagUntag,
)
from txkoji.messages.others import (
    PackageListChange,
    RepoDone,
    RepoInit,
    TaskStateChange,
)

__all__ = [
    "BuildPromote",
    "BuildStateChange",
    "Import",
    "MalformedMessage",
    "Message",
    "PackageListChange",
    "RPMSign",
    "RepoDone",
    "RepoInit",
    "StateChange",
    "TagUntag",
    "TaskStateChange",
    "UnknownMessageType",
    "MESSAGE_TYPES",
    "parse_frame",
    "parse_message",
]

#: Message class by ``type`` header.
MESSAGE_TYPES: dict[str, type[Message]] = {
    kind: cls
    for cls in (
        BuildStateChange,
        TaskStateChange,
        TagUntag,
        PackageListChange,
        Import,
        RPMSign,
        RepoInit,
        RepoDone,
        BuildPromote,
    )
    for kind in cls.types
}


def _dispatch(
    headers: Mapping[str, Any], body: dict[str, Any], connection: Any
) -> Message:
    kind = message_type(headers)
    if kind is None:
        raise MalformedMessage("message has no 'type' header")
    cls = MESSAGE_TYPES.get(kind)
    if cls is None:
        raise UnknownMessageType(f"unknown message type {kind!r}")
    return cls.from_parts(headers, body, connection)


def parse_frame(frame: Any, connection: Any) -> Message:
    """Build the right message type from a STOMP frame.

    :raises UnknownMessageType: for a ``type`` txkoji does not know.
    :raises MalformedMessage: when the frame lacks what its type carries.
    """
    return _dispatch(*frame_parts(frame, "message"), connection)


def parse_message(message: Any, connection: Any) -> Message:
    """Build the right message type from a protonmsg message (a mapping
    with ``properties`` and ``body``, or a ``proton.Message``).

    :raises UnknownMessageType: for a ``type`` txkoji does not know.
    :raises MalformedMessage: when the message lacks what its type carries.
    """
    return _dispatch(*amqp_parts(message, "message"), connection)
