"""What every message type shares: reading STOMP frames and protonmsg
messages into ``(headers, body)``, reading their fields and records, and
the errors for bad ones."""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from twisted.internet import defer

from txkoji.exceptions import KojiProtocolError

# Defined with the other exceptions; importable from here as before.
from txkoji.exceptions import MalformedMessage as MalformedMessage
from txkoji.exceptions import UnknownMessageType as UnknownMessageType
from txkoji.results import KojiRecord, result_type


def decode_body(body: Any, kind: str) -> dict[str, Any]:
    """Return a message body as a dict.

    :param body: JSON text (``str`` or ``bytes``), or an already decoded
        mapping.
    :param kind: the message type, for error messages.
    :raises MalformedMessage: when the body is not a JSON object.
    """
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage(f"{kind} message body is not UTF-8")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as e:
            raise MalformedMessage(f"{kind} message body is not JSON: {e}")
        except RecursionError:
            raise MalformedMessage(f"{kind} message body nests too deeply") from None
    if not isinstance(body, Mapping):
        raise MalformedMessage(
            f"{kind} message body is not a JSON object: {type(body).__name__}"
        )
    return dict(body)


def frame_parts(frame: Any, kind: str) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Return ``(headers, body)`` of a STOMP frame (an object with
    ``.headers`` and a JSON ``.body``).

    :raises MalformedMessage: when either is missing or unreadable.
    """
    headers = getattr(frame, "headers", None)
    if not isinstance(headers, Mapping) or not hasattr(frame, "body"):
        raise MalformedMessage(f"{kind} frame has no headers or no body")
    return headers, decode_body(frame.body, kind)


def amqp_parts(message: Any, kind: str) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Return ``(properties, body)`` of a protonmsg message: a mapping with
    ``properties`` and ``body`` keys, or an object with those attributes
    (a ``proton.Message``).

    :raises MalformedMessage: when either is missing or unreadable.
    """
    if isinstance(message, Mapping):
        properties, body = message.get("properties"), message.get("body")
    else:
        properties = getattr(message, "properties", None)
        body = getattr(message, "body", None)
    if not isinstance(properties, Mapping) or body is None:
        raise MalformedMessage(f"{kind} message has no properties or no body")
    return properties, decode_body(body, kind)


def message_type(headers: Mapping[str, Any]) -> str | None:
    """Return the ``type`` header, or ``None`` when there is none.

    :raises MalformedMessage: when it is not a string.
    """
    kind = headers.get("type")
    if kind is not None and not isinstance(kind, str):
        raise MalformedMessage(
            f"message 'type' header is a {type(kind).__name__}, not a string"
        )
    return kind


def message_field(
    headers: Mapping[str, Any], body: Mapping[str, Any], key: str, body_key: str = ""
) -> Any:
    """Return field ``key`` of a message: the header (or property) when it
    is there and not nil, else the body's ``body_key`` (default ``key``),
    else ``None``."""
    value = headers.get(key)
    if value is None:
        value = body.get(body_key or key)
    return value


def integer_field(headers: Mapping[str, Any], body: Mapping[str, Any], key: str) -> Any:
    """Return integer field ``key`` as :func:`message_field` does, with a
    header of decimal digits read as the integer it spells: STOMP headers
    are always text, so a broker bridging protonmsg properties to STOMP
    sends ``repo_id: "42"``.  Anything else is returned as it is, for the
    caller's check."""
    value = message_field(headers, body, key)
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    return value


def boolean_field(headers: Mapping[str, Any], body: Mapping[str, Any], key: str) -> Any:
    """Return boolean field ``key`` as :func:`message_field` does, with a
    STOMP header's ``"true"`` or ``"false"`` (any case) read as the
    boolean."""
    value = message_field(headers, body, key)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def require(mapping: Mapping[str, Any], key: str, kind: str, where: str) -> Any:
    """Return ``mapping[key]``, which must be there and not nil.

    :param where: ``"headers"`` or ``"body"``, for the error message.
    :raises MalformedMessage: naming the message type and the missing key.
    """
    value = mapping.get(key)
    if value is None:
        raise MalformedMessage(f"{kind} message has no {key!r} in its {where}")
    return value


def require_struct(body: Mapping[str, Any], key: str, kind: str) -> dict[str, Any]:
    """Return ``body[key]``, which must be a JSON object.

    :raises MalformedMessage: naming the message type and the key.
    """
    value = require(body, key, kind, "body")
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{kind} message's {key!r} is not an object")
    return dict(value)


def check_id(value: Any, what: str, kind: str, *, required: bool = True) -> Any:
    """Return ``value`` when it is an id: a non-negative integer (or, when
    not ``required``, nil).

    :param what: what the id is, for the error message (``"build id"``).
    :raises MalformedMessage: naming the message type and the value.
    """
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        if isinstance(value, float) and math.isnan(value):
            value = "NaN"
        raise MalformedMessage(f"{kind} message's {what} is not an id: {value!r}")
    return value


def check_name(value: Any, what: str, kind: str) -> str:
    """Return ``value`` when it is a non-empty string.

    :raises MalformedMessage: naming the message type and the value.
    """
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"{kind} message's {what} is not a name: {value!r}")
    return value


def record_of(
    value: Any, method: str, kind: str, connection: Any, what: str = "record"
) -> KojiRecord:
    """Return ``value`` as the record hub method ``method`` answers (a
    ``getBuild`` struct becomes a :class:`~txkoji.build.Build`), with
    ``connection`` attached.

    :raises MalformedMessage: when ``value`` is not an object, or not
        one the hub could answer (an id that is not an integer).
    """
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{kind} message's {what} is not an object")
    try:
        return result_type(method).convert(dict(value), connection)
    except KojiProtocolError as error:
        raise MalformedMessage(
            f"{kind} message's {what} has an id that is not an id: {error}"
        ) from None


def name_of(
    headers: Mapping[str, Any], body: Mapping[str, Any], key: str, kind: str
) -> str:
    """Return a name the headers carry as ``key``, or else the ``name`` of
    the body's ``key`` struct (protonmsg sends both; STOMP frames often
    only the header).

    :raises MalformedMessage: when neither has it, or it is not a string.
    """
    value = headers.get(key)
    if value is None:
        struct = body.get(key)
        if isinstance(struct, Mapping):
            value = struct.get("name")
    if value is None:
        raise MalformedMessage(f"{kind} message names no {key}")
    return check_name(value, key, kind)


def state_of(
    headers: Mapping[str, Any],
    body: Mapping[str, Any],
    key: str,
    to_str: Callable[[int], str],
    kind: str,
) -> str | None:
    """Return a state change's ``old`` or ``new`` state name: a name as
    given, or a state number converted with ``to_str``; ``None`` when the
    message has neither.

    :raises MalformedMessage: when the state is neither.
    """
    return state_name(message_field(headers, body, key), to_str, kind)


def state_name(value: Any, to_str: Callable[[int], str], kind: str) -> str | None:
    """Return the name of a state given by name or number (``None`` stays
    ``None``).

    :raises MalformedMessage: when ``value`` is neither.
    """
    if value is None or (isinstance(value, str) and value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return to_str(value)
    raise MalformedMessage(f"{kind} message's state is not a state: {value!r}")


class Message(ABC):
    """Base of the message types.

    Build one with :meth:`from_frame` (a STOMP frame, as txkoji 0.10 did)
    or :meth:`from_message` (a protonmsg message).

    :cvar types: the ``type`` header values this class reads.
    :ivar message_id: the id of the bus message the event came in, which
        :mod:`txkoji.bus` sets on delivery (``None`` otherwise).
    :ivar frame: the STOMP frame the event came in (``headers`` and
        ``body``), which the bus's stomp transport sets, for code that
        takes frames as txkoji 0.10's callers did (``None`` otherwise).
    """

    types: ClassVar[tuple[str, ...]] = ()
    message_id: str | None = None
    frame: Any = None

    @classmethod
    def from_frame(cls, frame: Any, connection: Any) -> Message:
        """Build the message from a STOMP frame.

        :raises MalformedMessage: when the frame is not this type's, or
            lacks what the type carries.
        """
        headers, body = frame_parts(frame, cls.__name__)
        return cls._checked(headers, body, connection)

    @classmethod
    def from_message(cls, message: Any, connection: Any) -> Message:
        """Build the message from a protonmsg message (properties and a
        JSON body; a mapping or a ``proton.Message``).

        :raises MalformedMessage: when the message is not this type's, or
            lacks what the type carries.
        """
        properties, body = amqp_parts(message, cls.__name__)
        return cls._checked(properties, body, connection)

    @classmethod
    def _checked(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> Message:
        kind = message_type(headers)
        if kind is not None and kind not in cls.types:
            raise MalformedMessage(f"a {kind} message is not a {cls.__name__}")
        return cls.from_parts(headers, body, connection)

    @classmethod
    @abstractmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> Message:
        """Build the message from its headers (or properties) and decoded
        body.

        :raises MalformedMessage: when something the type carries is
            missing.
        """


_Event = TypeVar("_Event", bound="StateChange")


class StateChange(Message):
    """Base of the state change events (a build's, a task's), which come
    from the bus or from polling.

    Subclasses are dataclasses whose fields are the record, ``event`` and
    ``old``, in that order, and provide :meth:`make_record` and
    :meth:`state_to_str`.

    :ivar event: the new state's name (also :attr:`~StateChange.new`).
    :ivar old: the old state's name, or ``None``.
    """

    event: str
    old: str | None

    @staticmethod
    @abstractmethod
    def make_record(value: Any, kind: str, connection: Any, what: str) -> KojiRecord:
        """Return the event's record made from ``value`` (a struct), on
        ``connection``.

        :param kind: the message type, for errors.
        :param what: what ``value`` is, for errors.
        :raises MalformedMessage: when ``value`` is not such a record.
        """

    @staticmethod
    @abstractmethod
    def state_to_str(number: int) -> str:
        """Return the name of state ``number``."""

    @property
    def new(self) -> str:
        """The new state's name (the same as ``event``)."""
        return self.event

    @classmethod
    def from_record(
        cls: type[_Event],
        record: Mapping[str, Any],
        old: Any,
        new: Any,
        connection: Any = None,
    ) -> _Event:
        """Make the event for a record seen to change state (by polling),
        e.g. ``TaskStateChange.from_record(task, "OPEN", "CLOSED")``.

        :param record: the hub's record (a ``getTaskInfo`` or ``getBuild``
            struct, or a :class:`~txkoji.task.Task` or
            :class:`~txkoji.build.Build`).
        :param old: the old state, a name (``"OPEN"``) or number, or
            ``None`` (first seen).
        :param new: the new state, a name or number.
        :param connection: the connection to attach (default: the
            record's own).
        :returns: an instance of this class.
        :raises MalformedMessage: when the record has no integer id, or a
            state is neither a name nor a number.
        """
        kind = cls.__name__
        if connection is None:
            connection = getattr(record, "connection", None)
        return cls(  # type: ignore[call-arg]
            cls.make_record(record, kind, connection, "record"),
            _new_state(state_name(new, cls.state_to_str, kind), kind),
            state_name(old, cls.state_to_str, kind),
        )

    @classmethod
    def from_parts(
        cls: type[_Event],
        headers: Mapping[str, Any],
        body: dict[str, Any],
        connection: Any,
    ) -> _Event:
        """See :meth:`Message.from_parts`: the record is the body's
        ``info``."""
        kind = cls.__name__
        info = require(body, "info", kind, "body")
        return cls(  # type: ignore[call-arg]
            cls.make_record(info, kind, connection, "'info'"),
            _new_state(state_of(headers, body, "new", cls.state_to_str, kind), kind),
            state_of(headers, body, "old", cls.state_to_str, kind),
        )


def _new_state(state: str | None, kind: str) -> str:
    if state is None:
        raise MalformedMessage(f"{kind} message has no new state")
    return state


class UserNamed:
    """Mixin for messages that name the user who acted (``user_name``)."""

    user_name: str | None

    def user(self) -> defer.Deferred[str | None]:
        """Return the name of the user who acted.

        :returns: a Deferred firing with the name (``None`` when the
            message did not say).
        """
        return defer.succeed(self.user_name)
