"""Messages about tasks, package lists and repos."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from munch import Munch
from twisted.internet import defer

from txkoji import task_states
from txkoji.cache import cache_for
from txkoji.messages.base import (
    MalformedMessage,
    Message,
    StateChange,
    UserNamed,
    boolean_field,
    check_id,
    check_name,
    integer_field,
    message_field,
    name_of,
    record_of,
    require_struct,
)
from txkoji.package import Package
from txkoji.task import Task
from txkoji.task_params import TaskParamsError
from txkoji.weblinks import web_url


def task_record(value: Any, kind: str, connection: Any, what: str = "task") -> Task:
    """Return ``value`` as a :class:`~txkoji.task.Task` on ``connection``.

    :raises MalformedMessage: when it is not an object, its ``id`` is not
        an integer, or its ``owner`` is neither an integer nor absent (the
        hub's protonmsg plugin sends the owner's id; Fedora's events,
        which carry a name, are made in :mod:`txkoji.bus.fedora_shapes`).
    """
    task = record_of(value, "getTaskInfo", kind, connection, what)
    check_id(task.get("id"), "task id", kind)
    check_id(task.get("owner"), "task owner", kind, required=False)
    return task


@dataclass(frozen=True, eq=False)
class TaskStateChange(StateChange):
    """A task changed state (``task.<state>``).

    Read from the bus with :meth:`~Message.from_message` or
    :meth:`~Message.from_frame`; made from a polled task record with
    :meth:`~StateChange.from_record`
    (``TaskStateChange.from_record(task, "OPEN", "CLOSED")``).

    :ivar task: the :class:`~txkoji.task.Task`.
    :ivar event: the new state's name, e.g. ``"FREE"`` (also
        :attr:`~txkoji.messages.base.StateChange.new`).
    :ivar old: the old state's name, or ``None``.
    :ivar checkpoint: where a polling feed stands after this event
        (:func:`txkoji.watch.feed`; resume with ``since=``), ``None`` for
        an event from the bus.
    """

    types = ("TaskStateChange",)
    make_record = staticmethod(task_record)
    state_to_str = staticmethod(task_states.to_str)

    task: Task
    event: str
    old: str | None = None
    checkpoint: str | None = field(default=None, compare=False)

    @property
    def url(self) -> str | None:
        """The task's kojiweb URL."""
        return self.task.url

    def tag(self) -> defer.Deferred[str | None]:
        """Return the name of the tag the task works in.

        :returns: a Deferred firing with the name (looked up through the
            name cache when the request holds a tag id), or ``None`` when
            the task has no tag.  It fails with
            :class:`~txkoji.task_params.TaskParamsError` when the request
            cannot be read, or as the lookup does.
        """
        try:
            name_or_id = self.task.tag
        except TaskParamsError:
            return defer.fail()
        if name_or_id is None or isinstance(name_or_id, str):
            return defer.succeed(name_or_id)
        return cache_for(self.task.connection).tag_name(name_or_id)

    def user(self) -> defer.Deferred[str | None]:
        """Return the task owner's name: the one the message gave (Fedora's
        do), else looked up by id through the name cache.

        :returns: a Deferred firing with the name, or ``None`` when the
            record names no owner.
        """
        name = self.task.get("owner_name")
        if name is not None:
            return defer.succeed(name)
        owner = self.task.get("owner")
        if owner is None:
            return defer.succeed(None)
        return cache_for(self.task.connection).user_name(owner)

    def fetch_task(self) -> defer.Deferred[Task | None]:
        """Read the task's full record, with its request, from the hub (a
        message may carry only part of it).

        :returns: a Deferred firing with the :class:`~txkoji.task.Task`, or
            ``None`` when the hub has no such task; failing as
            ``getTaskInfo`` does.
        """
        result: defer.Deferred[Task | None] = self.task.connection.getTaskInfo(
            self.task.id, request=True
        )
        return result


@dataclass(frozen=True, eq=False)
class PackageListChange(Message, UserNamed):
    """A tag's package list changed (``package.<action>``).

    :ivar tag: the tag's name.
    :ivar package: the :class:`~txkoji.package.Package` (the body's record,
        or just its name).
    :ivar action: ``add``, ``update``, ``block``, ``unblock`` or
        ``remove``.
    :ivar user_name: the name of the user who changed it.

    A Fedora message may leave out any of these: they are then ``None``
    (the package's ``name`` and ``id`` too).
    """

    types = ("PackageListChange",)

    tag: str | None
    package: Package
    action: str | None
    user_name: str | None = None

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> PackageListChange:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        record = body.get("package")
        if not isinstance(record, Mapping):
            record = {"name": name_of(headers, body, "package", kind)}
        package = record_of(record, "getPackage", kind, connection, "package")
        check_id(package.package_id, "package id", kind, required=False)
        return cls(
            name_of(headers, body, "tag", kind),
            package,
            message_field(headers, body, "action"),
            name_of(headers, body, "user", kind),
        )

    @property
    def url(self) -> str | None:
        """The package's kojiweb URL."""
        return self.package.url


def repo_url(connection: Any, repo_id: int | None) -> str | None:
    """Return the kojiweb ``repoinfo`` URL of a repo, or ``None`` without
    a connection ``weburl`` or a repo id."""
    weburl = getattr(connection, "weburl", None)
    if not weburl or repo_id is None:
        return None
    return web_url(weburl, "repo", repo_id)


@dataclass(frozen=True, eq=False)
class RepoInit(Message):
    """A repo is being made (``repo.init``).

    :ivar repo_id: the new repo's id (``None`` when a Fedora message left
        it out, as its tag).
    :ivar tag: the tag's name.
    :ivar task_id: the newRepo task, or ``None``.
    :ivar connection: the connection the message came through.
    """

    types = ("RepoInit",)

    repo_id: int | None
    tag: str | None
    task_id: int | None = None
    connection: Any = field(default=None, repr=False)

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RepoInit:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        return cls(
            check_id(integer_field(headers, body, "repo_id"), "repo_id", kind),
            name_of(headers, body, "tag", kind),
            check_id(
                integer_field(headers, body, "task_id"), "task_id", kind, required=False
            ),
            connection,
        )

    @property
    def url(self) -> str | None:
        """The repo's kojiweb ``repoinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        return repo_url(self.connection, self.repo_id)


@dataclass(frozen=True, eq=False)
class RepoDone(Message):
    """A repo is ready (``repo.done``).

    :ivar repo: the repo record (``id``, ``tag_name``, ``state``...).
    :ivar tag: the tag's name.
    :ivar expire: whether older repos of the tag were expired.
    :ivar connection: the connection the message came through.
    """

    types = ("RepoDone",)

    repo: Munch
    tag: str | None
    expire: Any = None
    connection: Any = field(default=None, repr=False)

    @property
    def repo_id(self) -> int | None:
        """The repo's id."""
        return self.repo["id"]

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RepoDone:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        repo = Munch(require_struct(body, "repo", kind))
        check_id(repo.get("id"), "repo id", kind)
        tag = headers.get("tag") or repo.get("tag_name")
        if tag is None:
            raise MalformedMessage(f"{kind} message names no tag")
        return cls(
            repo,
            check_name(tag, "tag", kind),
            boolean_field(headers, body, "expire"),
            connection,
        )

    @property
    def url(self) -> str | None:
        """The repo's kojiweb ``repoinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        return repo_url(self.connection, self.repo_id)
