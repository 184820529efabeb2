"""A real RabbitMQ broker for the message-bus tests.

The session-wide ``rabbitmq`` fixture runs Debian's ``rabbitmq-server``
directly (not as a system service) on 127.0.0.1: private data, log and
config directories in a temporary directory, a node name of its own, free
ports for AMQP, Erlang distribution and its own ``epmd``, and the
``rabbitmq_amqp1_0`` plugin so the same port speaks AMQP 0.9.1 (the
fedora-messaging path) and AMQP 1.0 (the protonmsg path), and the
``rabbitmq_stomp`` plugin on a port of its own (the stomp path).  A second port
speaks both over TLS and requires a client certificate from the test CA
(:attr:`RabbitMQ.pki`).  Logins need the node's own user and password
(:attr:`RabbitMQ.user`, :attr:`RabbitMQ.password`): there is no ``guest``
user, and anonymous AMQP 1.0 logins are refused, as on a real broker.
Tests can
:meth:`RabbitMQ.restart` it mid-stream; the data directory survives.

Without ``rabbitmq-server`` the fixture skips, except under ``CI=true``
where it fails: CI must run the bus tests.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.needs import missing_part
from txkoji.testing.certs import write_test_pki

#: Where Debian installs the broker's own scripts (the /usr/sbin ones
#: switch to the rabbitmq user and its /var/lib directory).
_SCRIPTS = "/usr/lib/rabbitmq/bin"
#: Seconds the broker may take to start or stop.
_START_TIMEOUT = 90.0
_STOP_TIMEOUT = 30.0
#: What the broker prints once every plugin has started.
_STARTED = b"Starting broker... completed"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _missing() -> list[str]:
    missing = []
    if not os.path.exists(os.path.join(_SCRIPTS, "rabbitmq-server")):
        missing.append("rabbitmq-server (apt-get install rabbitmq-server)")
    if shutil.which("epmd") is None:
        missing.append("epmd (erlang-base)")
    return missing


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process group ``process`` leads, SIGKILL it if it does
    not go in time, and reap ``process``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class RabbitMQ:
    """One private broker node.

    :ivar directory: the temporary directory holding its data and logs.
    :ivar port: the AMQP port (0.9.1 and 1.0) on 127.0.0.1.
    :ivar user: the one user, with all rights on the vhost ``/``.
    :ivar password: its password (made up for this node).
    :ivar url: ``amqp://<user>:<password>@127.0.0.1:<port>/%2F`` (AMQP
        0.9.1, with the vhost).
    :ivar amqp1_url: ``amqp://<user>:<password>@127.0.0.1:<port>`` (AMQP
        1.0; SASL PLAIN over plain TCP needs ``allow_insecure_mechs``).
    :ivar tls_port: the TLS port, which wants a client certificate.
    :ivar stomp_port: the STOMP port.
    :ivar stomp_url: ``stomp://<user>:<password>@127.0.0.1:<stomp_port>/%2F``.
    :ivar pki: the test CA, server and client certificates
        (:class:`~txkoji.testing.certs.TestPKI`).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.pki = write_test_pki(os.path.join(directory, "pki"))
        self.port = _free_port()
        self.tls_port = _free_port()
        self.user = "txkoji-test"
        self.password = secrets.token_urlsafe(12)
        credentials = f"{self.user}:{self.password}"
        self.url = f"amqp://{credentials}@127.0.0.1:{self.port}/%2F"
        self.amqp1_url = f"amqp://{credentials}@127.0.0.1:{self.port}"
        self.stomp_port = _free_port()
        self.stomp_url = f"stomp://{credentials}@127.0.0.1:{self.stomp_port}/%2F"
        self._epmd_port = _free_port()
        self._env = self._environment()
        self._write_config()
        self._epmd: subprocess.Popen | None = None
        self._server: subprocess.Popen | None = None

    def _environment(self) -> dict[str, str]:
        base = self.directory
        env = dict(os.environ)
        env.update(
            HOME=base,
            RABBITMQ_NODENAME=f"txkoji-{uuid.uuid4().hex[:8]}@localhost",
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(_free_port()),
            RABBITMQ_MNESIA_BASE=os.path.join(base, "mnesia"),
            RABBITMQ_LOG_BASE=os.path.join(base, "log"),
            RABBITMQ_CONFIG_FILE=os.path.join(base, "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(base, "advanced.config"),
            RABBITMQ_CONF_ENV_FILE=os.path.join(base, "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(base, "enabled_plugins"),
            RABBITMQ_PID_FILE=os.path.join(base, "rabbitmq.pid"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=(
                "-kernel inet_dist_use_interface {127,0,0,1}"
            ),
            ERL_EPMD_PORT=str(self._epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def _write_config(self) -> None:
        with open(self._env["RABBITMQ_CONFIG_FILE"], "w") as conf:
            conf.write(
                f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                f"listeners.ssl.default = 127.0.0.1:{self.tls_port}\n"
                f"stomp.listeners.tcp.1 = 127.0.0.1:{self.stomp_port}\n"
                f"ssl_options.cacertfile = {self.pki.ca_cert}\n"
                f"ssl_options.certfile = {self.pki.server_cert}\n"
                f"ssl_options.keyfile = {self.pki.server_key}\n"
                "ssl_options.verify = verify_peer\n"
                "ssl_options.fail_if_no_peer_cert = true\n"
                "loopback_users = none\n"
                f"default_user = {self.user}\n"
                f"default_pass = {self.password}\n"
                # No anonymous AMQP 1.0 logins (the plugin's default logs
                # them in as guest).
                "amqp1_0.default_user = none\n"
                "log.console = false\n"
                "log.file.level = warning\n"
            )
        with open(self._env["RABBITMQ_ENABLED_PLUGINS_FILE"], "w") as plugins:
            plugins.write("[rabbitmq_amqp1_0,rabbitmq_stomp].\n")

    def start(self) -> None:
        """Start the node (and its epmd) and wait until it serves.

        :raises RuntimeError: when it does not start in time.
        """
        if self._epmd is None:
            self._epmd = subprocess.Popen(
                ["epmd", "-port", str(self._epmd_port), "-address", "127.0.0.1"],
                env=self._env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        out_path = os.path.join(self.directory, "server.out")
        with open(out_path, "ab") as out:
            start_at = out.tell()
            self._server = subprocess.Popen(
                [os.path.join(_SCRIPTS, "rabbitmq-server")],
                env=self._env,
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and self._server.poll() is None:
            with open(out_path, "rb") as out:
                out.seek(start_at)
                if _STARTED in out.read():
                    return
            time.sleep(0.1)
        with open(out_path, "rb") as out:
            tail = out.read()[-3000:].decode("utf-8", "replace")
        self.stop()
        raise RuntimeError("rabbitmq-server did not start:\n" + tail)

    def stop(self) -> None:
        """Stop the node (its data stays for the next :meth:`start`)."""
        if self._server is not None:
            _stop_group(self._server)
            self._server = None

    def restart(self) -> None:
        """Stop the node and start it again on the same data and ports."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the node and its epmd."""
        self.stop()
        if self._epmd is not None:
            _stop_group(self._epmd)
            self._epmd = None

    def drop_connections(self) -> None:
        """Make the broker close every client connection at once (as when
        it goes away and comes back), with ``rabbitmqctl``."""
        subprocess.run(
            [
                os.path.join(_SCRIPTS, "rabbitmqctl"),
                "close_all_connections",
                "txkoji test: connections dropped",
            ],
            env=self._env,
            cwd=self.directory,
            check=True,
            capture_output=True,
            timeout=_START_TIMEOUT,
        )

    def declare_queue(
        self,
        name: str,
        routing_keys: list[str],
        *,
        exchange: str = "amq.topic",
        queue_type: str = "quorum",
        dead_letter_queue: str | None = None,
    ) -> None:
        """Declare a durable queue bound to ``exchange`` with each routing
        key, as an operator would (over AMQP 0.9.1, with pika); with
        ``dead_letter_queue``, rejected messages go to that queue."""
        import pika

        arguments = {"x-queue-type": queue_type}
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            if dead_letter_queue is not None:
                channel.queue_declare(
                    dead_letter_queue,
                    durable=True,
                    arguments={"x-queue-type": queue_type},
                )
                arguments["x-dead-letter-exchange"] = ""
                arguments["x-dead-letter-routing-key"] = dead_letter_queue
            channel.queue_declare(name, durable=True, arguments=arguments)
            for key in routing_keys:
                channel.queue_bind(name, exchange, routing_key=key)
        finally:
            connection.close()

    def queue_depth(self, name: str) -> int:
        """How many messages queue ``name`` holds (ready ones)."""
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        try:
            channel = connection.channel()
            declared = channel.queue_declare(name, passive=True)
            return declared.method.message_count
        finally:
            connection.close()


@pytest.fixture(scope="session")
def rabbitmq() -> Iterator[RabbitMQ]:
    """A running private RabbitMQ node shared by the session; stopped (with
    its epmd) and its directory removed at the end."""
    missing = _missing()
    if missing:
        missing_part("RabbitMQ tests need: " + ", ".join(missing))
    directory = tempfile.mkdtemp(prefix="txkoji-rabbitmq-")
    broker = RabbitMQ(directory)
    try:
        broker.start()
        yield broker
    finally:
        broker.close()
        shutil.rmtree(directory, ignore_errors=True)
