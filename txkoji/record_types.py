"""Import every rich-result module, so that each registers its result types
(``getBuild`` -> ``Build``, ...) in :mod:`txkoji.results` before the first
call is decoded."""

from txkoji import build, channel, host, package, tag, target, task, user

__all__ = ["build", "channel", "host", "package", "tag", "target", "task", "user"]
