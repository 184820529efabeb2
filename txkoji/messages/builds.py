"""Messages about builds: state changes, tagging, imports, signing,
promotion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from munch import Munch
from twisted.internet import defer

from txkoji import build_states
from txkoji.build import Build
from txkoji.messages.base import (
    MalformedMessage,
    Message,
    UserNamed,
    name_of,
    require,
    require_struct,
)
from txkoji.weblinks import record_url


def make_build(body: Mapping[str, Any], key: str, kind: str, connection: Any) -> Build:
    """Return ``body[key]`` as a :class:`~txkoji.build.Build` on
    ``connection``.

    :raises MalformedMessage: when it is missing or not an object.
    """
    build = Build(require_struct(body, key, kind))
    build.connection = connection
    return build


def state_of(
    headers: Mapping[str, Any],
    body: Mapping[str, Any],
    key: str,
    to_str: Any,
) -> str | None:
    """Return a state change's ``old`` or ``new`` state name: the header's
    name, else the body's number converted with ``to_str``, else
    ``None``."""
    if headers.get(key) is not None:
        return str(headers[key])
    if isinstance(body.get(key), int):
        return to_str(body[key])
    return None


class BuildStateChange(Message, UserNamed):
    """A build changed state (``build.<state>``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: the new state's name, e.g. ``"COMPLETE"``.
    :ivar old: the old state's name, or ``None`` (a new build).
    """

    types = ("BuildStateChange",)

    def __init__(self, build: Build, event: str, old: str | None = None) -> None:
        self.build = build
        self.event = event
        self.old = old
        self._user = build.get("owner_name")

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> BuildStateChange:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        build = make_build(body, "info", kind, connection)
        event = state_of(headers, body, "new", build_states.to_str)
        if event is None:
            raise MalformedMessage(f"{kind} message has no new state")
        return cls(build, event, state_of(headers, body, "old", build_states.to_str))

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL."""
        return self.build.url


class TagUntag(Message, UserNamed):
    """A build was tagged or untagged (``build.tag`` / ``build.untag``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar event: ``"Tag"`` or ``"Untag"``.
    :ivar tag: the tag's name.
    """

    types = ("Tag", "Untag")

    def __init__(self, build: Build, event: str, tag: str, user: str | None) -> None:
        self.build = build
        self.event = event
        self.tag = tag
        self._user = user

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> TagUntag:
        """See :meth:`Message.from_parts`."""
        kind = headers.get("type") or cls.__name__
        event = require(headers, "type", kind, "headers")
        build = make_build(body, "build", kind, connection)
        tag = name_of(headers, body, "tag", kind)
        return cls(build, event, tag, name_of(headers, body, "user", kind))

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL."""
        return self.build.url


class Import(Message, UserNamed):
    """A build was imported (``import.<type>``).

    :ivar build: the :class:`~txkoji.build.Build`.
    :ivar import_type: what was imported (``"build"``, ``"rpm"``...).
    """

    types = ("Import",)

    def __init__(self, build: Build, import_type: str | None) -> None:
        self.build = build
        self.import_type = import_type
        self._user = build.get("owner_name")

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> Import:
        """See :meth:`Message.from_parts`."""
        build = make_build(body, "build", cls.__name__, connection)
        return cls(build, headers.get("importType") or body.get("type"))

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL."""
        return self.build.url


class RPMSign(Message):
    """An RPM got a signature (``sign.rpm``).

    :ivar build: the :class:`~txkoji.build.Build` of the RPM.
    :ivar rpm: the RPM record (``id``, ``name``, ``arch``...).
    :ivar sigkey: the signing key id.
    """

    types = ("RPMSign",)

    def __init__(self, build: Build, rpm: Munch, sigkey: str) -> None:
        self.build = build
        self.rpm = rpm
        self.sigkey = sigkey

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RPMSign:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        build = make_build(body, "build", kind, connection)
        rpm = Munch(require_struct(body, "rpm", kind))
        sigkey = headers.get("sigkey", body.get("sigkey"))
        if sigkey is None:
            raise MalformedMessage(f"{kind} message has no sigkey")
        return cls(build, rpm, sigkey)

    @property
    def url(self) -> str | None:
        """The RPM's kojiweb ``rpminfo`` URL."""
        return record_url(self.build, "rpm", self.rpm.get("id"))

    def user(self) -> defer.Deferred[str | None]:
        """Return the build owner's name (the message names no signer).

        :returns: a Deferred firing with the name, or ``None``.
        """
        return defer.succeed(self.build.get("owner_name"))


class BuildPromote(Message, UserNamed):
    """A draft build was promoted (``build.promote``).

    :ivar build: the promoted :class:`~txkoji.build.Build`.
    :ivar draft_release: the release it had as a draft.
    :ivar target_release: the release it has now.
    """

    types = ("BuildPromote",)

    def __init__(
        self,
        build: Build,
        draft_release: str | None,
        target_release: str | None,
        user: str | None,
    ) -> None:
        self.build = build
        self.draft_release = draft_release
        self.target_release = target_release
        self._user = user

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> BuildPromote:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        build = make_build(body, "build", kind, connection)
        return cls(
            build,
            headers.get("draft_release", body.get("draft_release")),
            headers.get("target_release", body.get("target_release")),
            name_of(headers, body, "user", kind),
        )

    @property
    def url(self) -> str | None:
        """The build's kojiweb URL."""
        return self.build.url
