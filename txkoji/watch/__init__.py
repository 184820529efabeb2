"""Watching tasks and builds live, and an event feed by polling the hub.

::

    from txkoji.watch import watch_tasks

    def show(event):
        print(event.task["id"], event.old, "->", event.new, event.eta)

    trees = await watch_tasks(koji, [50100], on_event=show)

* :func:`watch_tasks` / :class:`TaskWatcher`: tasks and their descendants
  until all have finished.
* :func:`watch_builds` / :class:`BuildWatcher`: builds until they end.
* :func:`feed` / :class:`Feed`: every task, build and tag event of the
  hub, by polling, resumable from a checkpoint.

Both poll with multicalls (a handful of requests per cycle, however many
tasks), time themselves on the connection's reactor (tests pass a
``Clock``), and report the same event classes the message-bus parsers
produce (:mod:`txkoji.messages`).
"""

from txkoji.watch.base import DEFAULT_BATCH, Watcher
from txkoji.watch.builds import BuildWatcher, WatchedBuild, watch_builds
from txkoji.watch.checkpoint import BadCheckpoint
from txkoji.watch.feed import Feed, feed
from txkoji.watch.progress import Estimate
from txkoji.watch.tasks import TaskWatcher, WatchedTask, watch_tasks

__all__ = [
    "DEFAULT_BATCH",
    "BadCheckpoint",
    "Feed",
    "feed",
    "BuildWatcher",
    "Estimate",
    "TaskWatcher",
    "WatchedBuild",
    "Watcher",
    "WatchedTask",
    "watch_builds",
    "watch_tasks",
]
