"""A real ActiveMQ broker for the STOMP tests.

The session-wide ``activemq`` fixture runs Debian's ``activemq`` (5.17)
directly with ``java`` (not as a system service): a configuration of its
own in a temporary directory (KahaDB data there too), a small heap, users
with passwords (anonymous access refused), and on 127.0.0.1 a STOMP port
and a STOMP+SSL port that wants a client certificate from the test CA
(:attr:`ActiveMQ.pki`).  Tests can :meth:`ActiveMQ.restart` it mid-stream;
the data directory survives, so persistent messages and durable
subscriptions do too.

Without ``activemq`` or a Java runtime the fixture skips, except under
``CI=true`` where it fails: CI must run the STOMP tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption
from cryptography.hazmat.primitives.serialization.pkcs12 import (
    serialize_key_and_certificates,
)

from tests.needs import missing_part
from tests.rabbitmq import _free_port, _stop_group
from txkoji.testing.certs import TestPKI, write_test_pki

#: Where Debian installs the broker.
ACTIVEMQ_HOME = "/usr/share/activemq"
#: The users the broker knows: a consumer and a publisher (Brew's side).
USER, PASSWORD = "txkoji", "txkoji-secret"
PUBLISHER, PUBLISHER_PASSWORD = "brew", "brew-secret"
#: The keystores' password.
_STORE_PASSWORD = "txkoji-store"
_START_TIMEOUT = 120.0
#: What the broker logs once it serves.
_STARTED = b") started"
#: Options Debian's start script gives Java 9 and later.
_JAVA_OPENS = [
    "--add-reads=java.xml=java.logging",
    "--add-opens=java.base/java.security=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.naming/javax.naming.spi=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
]

_CONFIG = """<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans
    http://www.springframework.org/schema/beans/spring-beans.xsd
    http://activemq.apache.org/schema/core
    http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="txkoji"
          useJmx="false" persistent="true" schedulerSupport="false"
          advisorySupport="false" dataDirectory="{data}">
    <persistenceAdapter><kahaDB directory="{data}/kahadb"/></persistenceAdapter>
    <plugins>
      <simpleAuthenticationPlugin anonymousAccessAllowed="false">
        <users>
          <authenticationUser username="{user}" password="{password}"
                              groups="users"/>
          <authenticationUser username="{publisher}"
                              password="{publisher_password}" groups="users"/>
        </users>
      </simpleAuthenticationPlugin>
    </plugins>
    <!-- Producer flow control off: messages kept for consumer queues that
         earlier tests left behind go to the store, and never hold up a
         later test's publisher (a blocked send hung the suite once). -->
    <destinationPolicy><policyMap><policyEntries>
      <policyEntry queue=">" producerFlowControl="false"/>
      <policyEntry topic=">" producerFlowControl="false"/>
    </policyEntries></policyMap></destinationPolicy>
    <!-- A full store fails the send at once rather than blocking it. -->
    <systemUsage><systemUsage sendFailIfNoSpace="true">
      <memoryUsage><memoryUsage limit="64 mb"/></memoryUsage>
      <storeUsage><storeUsage limit="1 gb"/></storeUsage>
      <tempUsage><tempUsage limit="256 mb"/></tempUsage>
    </systemUsage></systemUsage>
    <sslContext>
      <sslContext keyStore="file:{keystore}" keyStorePassword="{store_password}"
                  keyStoreType="PKCS12" trustStore="file:{truststore}"
                  trustStorePassword="{store_password}" trustStoreType="PKCS12"/>
    </sslContext>
    <transportConnectors>
      <transportConnector name="stomp"
          uri="stomp://127.0.0.1:{port}?transport.closeAsync=false"/>
      <transportConnector name="stomp+ssl"
          uri="stomp+ssl://127.0.0.1:{tls_port}?needClientAuth=true"/>
    </transportConnectors>
  </broker>
</beans>
"""

#: Debian's ActiveMQ logs with log4j 1.2, configured from the classpath.
_LOG_CONFIG = """log4j.rootLogger=WARN, stdout
log4j.logger.org.apache.activemq.broker.BrokerService=INFO
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=%5p | %m%n
"""


def _missing() -> list[str]:
    missing = []
    if not os.path.exists(os.path.join(ACTIVEMQ_HOME, "bin", "activemq.jar")):
        missing.append("activemq (apt-get install activemq)")
    if shutil.which("java") is None or shutil.which("keytool") is None:
        missing.append("a Java runtime (default-jre-headless)")
    return missing


def _write_stores(pki: TestPKI, directory: str) -> tuple[str, str]:
    """Write the broker's key store (its key and certificate) and trust
    store (the test CA) as PKCS#12 files; return their paths."""
    keystore = os.path.join(directory, "broker.p12")
    with open(keystore, "wb") as out:
        out.write(
            serialize_key_and_certificates(
                b"broker",
                pki.server.key,
                pki.server.cert,
                [pki.ca.cert],
                BestAvailableEncryption(_STORE_PASSWORD.encode()),
            )
        )
    truststore = os.path.join(directory, "trust.p12")
    subprocess.run(
        ["keytool", "-importcert", "-noprompt", "-alias", "ca"]
        + ["-file", str(pki.ca_cert), "-keystore", truststore]
        + ["-storetype", "PKCS12", "-storepass", _STORE_PASSWORD],
        check=True,
        capture_output=True,
    )
    return keystore, truststore


class ActiveMQ:
    """One private broker.

    :ivar directory: the temporary directory holding its data and logs.
    :ivar port: the STOMP port on 127.0.0.1.
    :ivar tls_port: the STOMP+SSL port, which wants a client certificate.
    :ivar url: ``stomp://txkoji:...@127.0.0.1:<port>`` (the consumer).
    :ivar publisher_url: the same for the publishing user.
    :ivar pki: the test CA, server and client certificates.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.pki = write_test_pki(os.path.join(directory, "pki"))
        self.port = _free_port()
        self.tls_port = _free_port()
        self.url = f"stomp://{USER}:{PASSWORD}@127.0.0.1:{self.port}"
        self.publisher_url = (
            f"stomp://{PUBLISHER}:{PUBLISHER_PASSWORD}@127.0.0.1:{self.port}"
        )
        self._conf = os.path.join(directory, "conf")
        self._data = os.path.join(directory, "data")
        os.makedirs(self._conf)
        os.makedirs(self._data)
        keystore, truststore = _write_stores(self.pki, self._conf)
        with open(os.path.join(self._conf, "activemq.xml"), "w") as conf:
            conf.write(
                _CONFIG.format(
                    data=self._data,
                    user=USER,
                    password=PASSWORD,
                    publisher=PUBLISHER,
                    publisher_password=PUBLISHER_PASSWORD,
                    keystore=keystore,
                    truststore=truststore,
                    store_password=_STORE_PASSWORD,
                    port=self.port,
                    tls_port=self.tls_port,
                )
            )
        with open(os.path.join(self._conf, "log4j.properties"), "w") as conf:
            conf.write(_LOG_CONFIG)
        self._server: subprocess.Popen | None = None

    def _command(self) -> list[str]:
        return [
            "java",
            "-Xms64m",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            *_JAVA_OPENS,
            f"-Dactivemq.classpath={self._conf}",
            f"-Dactivemq.home={ACTIVEMQ_HOME}",
            f"-Dactivemq.base={self.directory}",
            f"-Dactivemq.conf={self._conf}",
            f"-Dactivemq.data={self._data}",
            "-jar",
            os.path.join(ACTIVEMQ_HOME, "bin", "activemq.jar"),
            "start",
            f"xbean:file:{self._conf}/activemq.xml",
        ]

    def start(self) -> None:
        """Start the broker and wait until its STOMP ports take connections.

        :raises RuntimeError: when it does not start in time.
        """
        out_path = os.path.join(self.directory, "broker.out")
        with open(out_path, "ab") as out:
            start_at = out.tell()
            self._server = subprocess.Popen(
                self._command(),
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and self._server.poll() is None:
            with open(out_path, "rb") as out:
                out.seek(start_at)
                if _STARTED in out.read() and self._serves():
                    return
            time.sleep(0.1)
        with open(out_path, "rb") as out:
            tail = out.read()[-3000:].decode("utf-8", "replace")
        self.stop()
        raise RuntimeError("activemq did not start:\n" + tail)

    def _serves(self) -> bool:
        for port in (self.port, self.tls_port):
            try:
                with socket.create_connection(("127.0.0.1", port), 1):
                    pass
            except OSError:
                return False
        return True

    def stop(self) -> None:
        """Stop the broker (its data stays for the next :meth:`start`)."""
        if self._server is not None:
            _stop_group(self._server)
            self._server = None

    def restart(self) -> None:
        """Stop the broker and start it again on the same data and ports."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def activemq() -> Iterator[ActiveMQ]:
    """A running private ActiveMQ shared by the session; stopped and its
    directory removed at the end."""
    missing = _missing()
    if missing:
        missing_part("ActiveMQ tests need: " + ", ".join(missing))
    directory = tempfile.mkdtemp(prefix="txkoji-activemq-")
    broker = ActiveMQ(directory)
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(directory, ignore_errors=True)
