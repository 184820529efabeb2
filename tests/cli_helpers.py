"""Running the ``txkoji`` command from this checkout in tests: to the end
(its output and status), or spawned with its output collected as it comes
(for Ctrl-C and terminal tests)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from twisted.internet import defer, protocol, reactor, utils

ROOT = Path(__file__).resolve().parent.parent


def environment(home: Path | None = None) -> dict[str, str]:
    """The environment of a ``txkoji`` run from this checkout, with
    ``HOME`` set to ``home`` if given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if home is not None:
        env["HOME"] = str(home)
    return env


async def txkoji(*args: str, home: Path | None = None) -> tuple[str, str, int]:
    """Run ``python -m txkoji *args``; return stdout, stderr and status."""
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, ["-m", "txkoji", *args], env=environment(home), path=str(ROOT)
    )
    return out.decode(), err.decode(), code


class CollectOutput(protocol.ProcessProtocol):
    """Keeps a spawned process's stdout (``out``) and stderr (``err``) as
    they arrive; ``ended`` fires with the exit status."""

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: defer.Deferred = defer.Deferred()

    def outReceived(self, data: bytes) -> None:
        self.out += data

    def errReceived(self, data: bytes) -> None:
        self.err += data

    def processEnded(self, reason) -> None:
        self.ended.callback(reason.value.exitCode)


def spawn_txkoji(
    collect: CollectOutput,
    args: list[str],
    env: dict[str, str] | None = None,
    use_pty: bool = False,
):
    """Start ``python -m txkoji *args`` feeding ``collect``; return the
    process transport (for ``signalProcess``)."""
    return reactor.spawnProcess(
        collect,
        sys.executable,
        [sys.executable, "-m", "txkoji", *args],
        env=environment() if env is None else env,
        path=str(ROOT),
        usePTY=use_pty,
    )
