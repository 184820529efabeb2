"""Messages about tasks, package lists and repos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from munch import Munch
from twisted.internet import defer

from txkoji import task_states
from txkoji.cache import cache_for
from txkoji.messages.base import (
    MalformedMessage,
    Message,
    UserNamed,
    name_of,
    require_struct,
)
from txkoji.messages.builds import state_of
from txkoji.package import Package
from txkoji.task import Task
from txkoji.weblinks import web_url


class TaskStateChange(Message):
    """A task changed state (``task.<state>``).

    :ivar task: the :class:`~txkoji.task.Task`.
    :ivar event: the new state's name, e.g. ``"FREE"``.
    :ivar old: the old state's name, or ``None``.
    """

    types = ("TaskStateChange",)

    def __init__(self, task: Task, event: str, old: str | None = None) -> None:
        self.task = task
        self.event = event
        self.old = old

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> TaskStateChange:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        task = Task(require_struct(body, "info", kind))
        task.connection = connection
        event = state_of(headers, body, "new", task_states.to_str)
        if event is None:
            raise MalformedMessage(f"{kind} message has no new state")
        return cls(task, event, state_of(headers, body, "old", task_states.to_str))

    @property
    def url(self) -> str | None:
        """The task's kojiweb URL."""
        return self.task.url

    def tag(self) -> defer.Deferred[str | None]:
        """Return the name of the tag the task works in.

        :returns: a Deferred firing with the name (looked up through the
            name cache when the request holds a tag id), or ``None`` when
            the task has no tag.  It fails as the lookup does.
        """
        name_or_id = self.task.tag
        if name_or_id is None or isinstance(name_or_id, str):
            return defer.succeed(name_or_id)
        return cache_for(self.task.connection).tag_name(name_or_id)

    def user(self) -> defer.Deferred[str | None]:
        """Return the task owner's name, through the name cache.

        :returns: a Deferred firing with the name, or ``None``.
        """
        return cache_for(self.task.connection).user_name(self.task["owner"])


class PackageListChange(Message, UserNamed):
    """A tag's package list changed (``package.<action>``).

    :ivar tag: the tag's name.
    :ivar package: the :class:`~txkoji.package.Package` (the body's record,
        or just its name).
    :ivar action: ``add``, ``update``, ``block``, ``unblock`` or
        ``remove``.
    """

    types = ("PackageListChange",)

    def __init__(
        self, tag: str, package: Package, action: str | None, user: str | None
    ) -> None:
        self.tag = tag
        self.package = package
        self.action = action
        self._user = user

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> PackageListChange:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        record = body.get("package")
        if not isinstance(record, dict):
            record = {"name": name_of(headers, body, "package", kind)}
        package = Package(record)
        package.connection = connection
        return cls(
            name_of(headers, body, "tag", kind),
            package,
            headers.get("action", body.get("action")),
            name_of(headers, body, "user", kind),
        )

    @property
    def url(self) -> str | None:
        """The package's kojiweb URL."""
        return self.package.url


class _RepoMessage(Message):
    """A repo event: the repo id, its tag's name and a kojiweb URL."""

    def __init__(self, repo_id: int, tag: str, connection: Any) -> None:
        self.repo_id = repo_id
        self.tag = tag
        self.connection = connection

    @property
    def url(self) -> str | None:
        """The repo's kojiweb ``repoinfo`` URL, or ``None`` without a
        connection ``weburl``."""
        weburl = getattr(self.connection, "weburl", None)
        return web_url(weburl, "repo", self.repo_id) if weburl else None


class RepoInit(_RepoMessage):
    """A repo is being made (``repo.init``).

    :ivar repo_id: the new repo's id.
    :ivar tag: the tag's name.
    :ivar task_id: the newRepo task, or ``None``.
    """

    types = ("RepoInit",)

    def __init__(
        self, repo_id: int, tag: str, task_id: int | None, connection: Any
    ) -> None:
        super().__init__(repo_id, tag, connection)
        self.task_id = task_id

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RepoInit:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        repo_id = headers.get("repo_id", body.get("repo_id"))
        if not isinstance(repo_id, int):
            raise MalformedMessage(f"{kind} message has no integer repo_id")
        tag = name_of(headers, body, "tag", kind)
        return cls(
            repo_id, tag, headers.get("task_id", body.get("task_id")), connection
        )


class RepoDone(_RepoMessage):
    """A repo is ready (``repo.done``).

    :ivar repo: the repo record (``id``, ``tag_name``, ``state``...).
    :ivar repo_id: its id.
    :ivar tag: the tag's name.
    :ivar expire: whether older repos of the tag were expired.
    """

    types = ("RepoDone",)

    def __init__(self, repo: Munch, tag: str, expire: Any, connection: Any) -> None:
        super().__init__(repo["id"], tag, connection)
        self.repo = repo
        self.expire = expire

    @classmethod
    def from_parts(
        cls, headers: Mapping[str, Any], body: dict[str, Any], connection: Any
    ) -> RepoDone:
        """See :meth:`Message.from_parts`."""
        kind = cls.__name__
        repo = Munch(require_struct(body, "repo", kind))
        if not isinstance(repo.get("id"), int):
            raise MalformedMessage(f"{kind} message's repo has no integer id")
        tag = headers.get("tag") or repo.get("tag_name")
        if tag is None:
            raise MalformedMessage(f"{kind} message names no tag")
        return cls(repo, tag, headers.get("expire", body.get("expire")), connection)
