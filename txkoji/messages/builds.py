"""Messages about builds: state changes, tagging, imports, signing,
promotion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from munch import Munch
from twisted.internet import defer

from txkoji import build_states
from txkoji.build import Build
from txkoji.messages.base import (
    MalformedMessage,
    Message,
    StateChange,
    UserNamed,
    check_id,
    check_name,
    message_field,
    message_type,
    name_of,
    record_of,
    require,
    require_struct,
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
    return build


def message_build(
    body: Mapping[str, Any], key: str, kind: str, connection: Any
) -> Build:
    """Return the body's ``key`` struct as a :class:`~txkoji.build.Build`.

    :raises MalformedMessage: as :func:`build_record`, or when it is
        missing.
    """
    return build_record(require(body, key, kind, "body"), kind, connection, repr(key))


class _HasBuild:
    """Mixin: the message's ``build``, read in full from the hub on
    request."""

    build: Build

    def fetch_build(self) -> defer.Deferred[Build | None]:
        """Read the build's full record from the hub (a message may carry
        only part of it: Fedora's carry names, no times or volume).

        :returns: a Deferred firing with the :class:`~txkoji.build.Build`
            (``getBuild`` by id, else by NVR), or ``None`` when the message
            names neither or the hub has no such build; failing as
            ``getBuild`` does.
        """
        build = self.build
        key = build.get("id") or build.get("build_id") or build.get("nvr")
        if key is None or build.connection is None:
            return defer.succeed(None)
        result: defer.Deferred[Build | None] = build.connection.getBuild(key)
        return result


class _BuildLinked(_HasBuild):
    """Mixin: the kojiweb URL of the message's ``build``."""

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL, or ``None`` without a connection
        ``weburl``."""
        return self.build.url


class _OwnerNamed:
    """Mixin for messages that name no user: the build owner stands in."""

    build: Build

    def user(self) -> defer.Deferred[str | None]:
        """Return the build owner's name.

        :returns: a Deferred firing with the name, or ``None``.
        """
        return defer.succeed(self.build.get("owner_name"))


@dataclass(frozen=True, eq=False)
class BuildStateChange(_BuildLinked, _OwnerNamed, StateChange):
    """A build changed state (``build.<state>``).

    Read from the bus with :meth:`~Message.from_message` or
    :meth:`~Message.from_frame`; made from a polled build record with
    :meth:`~StateChange.from_record`
    (``BuildStateChange.from_record(build, "BUILDING", "COMPLETE")``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: the new state's name, e.g. ``"COMPLETE"`` (also
        :attr:`~txkoji.messages.base.StateChange.new`).
    :ivar old: the old state's name, or ``None`` (a new build).
    :ivar checkpoint: where a polling feed stands after this event
        (:func:`txkoji.watch.feed`; resume with ``since=``), ``None`` for
        an event from the bus.
    """

    types = ("BuildStateChange",)
    make_record = staticmethod(build_record)
    state_to_str = staticmethod(build_states.to_str)

    build: Build
    event: str
    old: str | None = None
    checkpoint: str | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False)
class TagUntag(_BuildLinked, Message, UserNamed):
    """A build was tagged or untagged (``build.tag`` / ``build.untag``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: ``"Tag"`` or ``"Untag"``.
    :ivar tag: the tag's name (``None`` when a Fedora message left it
        out).
    :ivar user_name: the name of the user who tagged, or ``None``.
    :ivar checkpoint: where a polling feed stands after this event
        (:func:`txkoji.watch.feed`; resume with ``since=``), ``None`` for
        an event from the bus.
    """

    types = ("Tag", "Untag")

    build: Build
    event: str
    tag: str | None
    user_name: str | None = None
    checkpoint: str | None = field(default=None, compare=False)

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> TagUntag:
        """See :meth:`Message.from_parts`."""
        kind = message_type(headers) or cls.__name__
        return cls(
            message_build(body, "build", kind, connection),
            require(headers, "type", kind, "headers"),
            name_of(headers, body, "tag", kind),
            name_of(headers, body, "user", kind),
        )


@dataclass(frozen=True, eq=False)
class Import(_BuildLinked, _OwnerNamed, Message):
    """A build was imported (``import.<type>``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar import_type: what was imported (``"build"``, ``"rpm"``...).
    """

    types = ("Import",)

    build: Build
    import_type: str | None = None

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> Import:
        """See :meth:`Message.from_parts`."""
        return cls(
            message_build(body, "build", cls.__name__, connection),
            message_field(headers, body, "importType", "type"),
        )


@dataclass(frozen=True, eq=False)
class RPMSign(_HasBuild, _OwnerNamed, Message):
    """An RPM got a signature (``sign.rpm``).

    :ivar build: the :class:`~txkoji.build.Build` of the RPM.
    :ivar rpm: the RPM record (``id``, ``name``, ``arch``...).
    :ivar sigkey: the signing key id (``None`` when a Fedora message left
        it out).
    """

    types = ("RPMSign",)

    build: Build
    rpm: Munch
    sigkey: str | None

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RPMSign:
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
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> BuildPromote:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        return cls(
            message_build(body, "build", kind, connection),
            message_field(headers, body, "draft_release"),
            message_field(headers, body, "target_release"),
            name_of(headers, body, "user", kind),
        )
