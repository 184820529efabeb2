"""Messages about builds: state changes, tagging, imports, signing,
promotion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from munch import Munch
from twisted.internet import defer

from txkoji import build_states
from txkoji.build import Build
from txkoji.messages.base import (
    MalformedMessage,
    Message,
    UserNamed,
    check_id,
    check_name,
    message_field,
    message_type,
    name_of,
    record_of,
    require,
    require_struct,
    state_name,
    state_of,
)
from txkoji.weblinks import record_url


def build_record(value: Any, kind: str, connection: Any, what: str = "build") -> Build:
    """Return ``value`` as a :class:`~txkoji.build.Build` on ``connection``.

    :raises MalformedMessage: when it is not an object, or its id
        (``build_id`` or ``id``) is not an integer.
    """
    build = record_of(value, "getBuild", kind, connection, what)
    check_id(build.get("build_id", build.get("id")), "build id", kind)
    check_id(build.get("id"), "build id", kind, required=False)
    return build  # type: ignore[return-value]


def message_build(
    body: Mapping[str, Any], key: str, kind: str, connection: Any
) -> Build:
    """Return the body's ``key`` struct as a :class:`~txkoji.build.Build`.

    :raises MalformedMessage: as :func:`build_record`, or when it is
        missing.
    """
    return build_record(require(body, key, kind, "body"), kind, connection, repr(key))


class _BuildLinked:
    """Mixin: the kojiweb URL of the message's ``build``."""

    build: Build

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL, or ``None`` without a connection
        ``weburl``."""
        return self.build.url


@dataclass(frozen=True, eq=False)
class BuildStateChange(_BuildLinked, Message, UserNamed):
    """A build changed state (``build.<state>``).

    Read from the bus with :meth:`~Message.from_message` or
    :meth:`~Message.from_frame`; made from a polled record with
    :meth:`from_record`.

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: the new state's name, e.g. ``"COMPLETE"`` (also
        :attr:`new`).
    :ivar old: the old state's name, or ``None`` (a new build).
    """

    types = ("BuildStateChange",)

    build: Build
    event: str
    old: str | None = None

    @property
    def new(self) -> str:
        """The new state's name (the same as :attr:`event`)."""
        return self.event

    @property
    def user_name(self) -> str | None:
        """The build owner's name."""
        return self.build.get("owner_name")

    @classmethod
    def from_record(
        cls, build: Mapping[str, Any], old: Any, new: Any, connection: Any = None
    ) -> BuildStateChange:
        """Make the event for a build seen to change state (by polling).

        :param build: the build record (a ``getBuild`` struct or
            :class:`~txkoji.build.Build`).
        :param old: the old state, a name (``"BUILDING"``) or number, or
            ``None``.
        :param new: the new state, a name or number.
        :param connection: the connection to attach (default: the
            record's own).
        :raises MalformedMessage: when the record has no integer id or a
            state is neither a name nor a number.
        """
        kind = cls.__name__
        if connection is None:
            connection = getattr(build, "connection", None)
        return cls(
            build_record(build, kind, connection),
            _required_state(state_name(new, build_states.to_str, kind), kind),
            state_name(old, build_states.to_str, kind),
        )

    @classmethod
    def from_parts(cls, headers, body, connection) -> BuildStateChange:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        return cls(
            message_build(body, "info", kind, connection),
            _required_state(
                state_of(headers, body, "new", build_states.to_str, kind), kind
            ),
            state_of(headers, body, "old", build_states.to_str, kind),
        )


def _required_state(state: str | None, kind: str) -> str:
    if state is None:
        raise MalformedMessage(f"{kind} message has no new state")
    return state


@dataclass(frozen=True, eq=False)
class TagUntag(_BuildLinked, Message, UserNamed):
    """A build was tagged or untagged (``build.tag`` / ``build.untag``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: ``"Tag"`` or ``"Untag"``.
    :ivar tag: the tag's name.
    :ivar user_name: the name of the user who tagged, or ``None``.
    """

    types = ("Tag", "Untag")

    build: Build
    event: str
    tag: str
    user_name: str | None = None

    @classmethod
    def from_parts(cls, headers, body, connection) -> TagUntag:
        """See :meth:`Message.from_parts`."""
        kind = message_type(headers) or cls.__name__
        return cls(
            message_build(body, "build", kind, connection),
            require(headers, "type", kind, "headers"),
            name_of(headers, body, "tag", kind),
            name_of(headers, body, "user", kind),
        )


@dataclass(frozen=True, eq=False)
class Import(_BuildLinked, Message, UserNamed):
    """A build was imported (``import.<type>``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar import_type: what was imported (``"build"``, ``"rpm"``...).
    """

    types = ("Import",)

    build: Build
    import_type: str | None = None

    @property
    def user_name(self) -> str | None:
        """The build owner's name."""
        return self.build.get("owner_name")

    @classmethod
    def from_parts(cls, headers, body, connection) -> Import:
        """See :meth:`Message.from_parts`."""
        return cls(
            message_build(body, "build", cls.__name__, connection),
            message_field(headers, body, "importType", "type"),
        )


@dataclass(frozen=True, eq=False)
class RPMSign(Message):
    """An RPM got a signature (``sign.rpm``).

    :ivar build: the :class:`~txkoji.build.Build` of the RPM.
    :ivar rpm: the RPM record (``id``, ``name``, ``arch``...).
    :ivar sigkey: the signing key id.
    """

    types = ("RPMSign",)

    build: Build
    rpm: Munch
    sigkey: str

    @classmethod
    def from_parts(cls, headers, body, connection) -> RPMSign:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        build = message_build(body, "build", kind, connection)
        rpm = Munch(require_struct(body, "rpm", kind))
        check_id(rpm.get("id"), "rpm id", kind, required=False)
        sigkey = message_field(headers, body, "sigkey")
        if sigkey is None:
            raise MalformedMessage(f"{kind} message has no sigkey")
        return cls(build, rpm, check_name(sigkey, "sigkey", kind))

    @property
    def url(self) -> str | None:
        """The RPM's kojiweb ``rpminfo`` URL."""
        return record_url(self.build, "rpm", self.rpm.get("id"))

    def user(self) -> defer.Deferred:
        """Return the build owner's name (the message names no signer).

        :returns: a Deferred firing with the name, or ``None``.
        """
        return defer.succeed(self.build.get("owner_name"))


@dataclass(frozen=True, eq=False)
class BuildPromote(_BuildLinked, Message, UserNamed):
    """A draft build was promoted (``build.promote``).

    :ivar build: the promoted :class:`~txkoji.build.Build`.
    :ivar draft_release: the release it had as a draft.
    :ivar target_release: the release it has now.
    :ivar user_name: the name of the user who promoted it.
    """

    types = ("BuildPromote",)

    build: Build
    draft_release: str | None
    target_release: str | None
    user_name: str | None = None

    @classmethod
    def from_parts(cls, headers, body, connection) -> BuildPromote:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        return cls(
            message_build(body, "build", kind, connection),
            message_field(headers, body, "draft_release"),
            message_field(headers, body, "target_release"),
            name_of(headers, body, "user", kind),
        )
