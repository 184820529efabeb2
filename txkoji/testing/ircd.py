"""A private IRC server (Debian's ``ngircd``) for tests and demos of IRC
bots: :class:`IRCServer` runs it in the foreground on 127.0.0.1 with a
configuration of its own (a free port, no PAM, ident or DNS lookups), and
can restart it on the same port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

_START_TIMEOUT = 30.0

_CONFIG = """[Global]
\tName = irc.txkoji.test
\tInfo = txkoji test IRC server
\tListen = 127.0.0.1
\tPorts = {port}
\tMotdPhrase = "txkoji tests"
\tServerUID = {uid}
\tServerGID = {gid}
[Limits]
\tPingTimeout = 30
\tPongTimeout = 10
\tMaxConnectionsIP = 0
[Options]
\tPAM = no
\tIdent = no
\tDNS = no
"""


def available() -> bool:
    """Whether ``ngircd`` is installed."""
    return shutil.which("ngircd") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class IRCServer:
    """One private ngircd.

    :ivar directory: where its configuration and output go.
    :ivar port: its port on 127.0.0.1.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.port = _free_port()
        self._config = os.path.join(directory, "ngircd.conf")
        with open(self._config, "w") as config:
            # As root, ngircd switches to an unprivileged user.
            uid = 65534 if os.getuid() == 0 else os.getuid()
            gid = 65534 if os.getuid() == 0 else os.getgid()
            config.write(_CONFIG.format(port=self.port, uid=uid, gid=gid))
        self._server: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it takes connections.

        :raises RuntimeError: when it does not start in time.
        """
        out = open(os.path.join(self.directory, "ngircd.out"), "ab")
        with out:
            self._server = subprocess.Popen(
                ["ngircd", "--nodaemon", "--config", self._config],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and self._server.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("ngircd did not start")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        server, self._server = self._server, None
        if server is None or server.poll() is not None:
            return
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    def restart(self) -> None:
        """Stop the server and start it again on the same port."""
        self.stop()
        self.start()
