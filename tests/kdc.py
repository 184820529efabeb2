"""A real MIT Kerberos KDC for the GSSAPI tests.

The ``kdc`` fixture builds a realm in a temporary directory (its own
``krb5.conf`` through ``KRB5_CONFIG`` and ``kdc.conf`` through
``KRB5_KDC_PROFILE``), adds an ``HTTP/localhost`` service with a keytab and a
user ``alice`` with a password and a keytab, starts ``krb5kdc`` in the
foreground on a free loopback port, and points ``KRB5CCNAME`` at a cache in
that directory.  Teardown kills the KDC, restores the environment and
removes the directory.

Without the KDC tools the fixture skips, except under ``CI=true`` where it
fails: CI must run the Kerberos tests.
"""

from __future__ import annotations

import os
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.needs import missing_part

REALM = "TXKOJI.TEST"
SERVICE = "HTTP/localhost"
USER = "alice"
#: A principal the KDC knows but the fake hub has no user for.
OUTSIDER = "carol"
#: A principal the KDC has never heard of.
STRANGER = "mallory"

#: Environment variables the fixture sets for the test process.
_ENV_KEYS = (
    "KRB5_CONFIG",
    "KRB5_KDC_PROFILE",
    "KRB5CCNAME",
    "KRB5RCACHETYPE",
    "KRB5_KTNAME",
    "KRB5_CLIENT_KTNAME",
)

#: Seconds the KDC may take to start.
_START_TIMEOUT = 20.0


@dataclass(frozen=True)
class KDC:
    """A running test realm.

    :ivar realm: the realm name.
    :ivar directory: the temporary directory holding everything.
    :ivar service_keytab: keytab of ``HTTP/localhost`` (for the hub).
    :ivar user: the user principal, with realm.
    :ivar user_password: the user's password.
    :ivar user_keytab: a keytab holding the user's key.
    :ivar outsider: a principal with a key (in ``outsider_keytab``) that
        no hub user matches.
    :ivar stranger: a principal the KDC does not know.
    :ivar ccache: the credential cache ``KRB5CCNAME`` names.
    """

    realm: str
    directory: str
    service_keytab: str
    user: str
    user_password: str
    user_keytab: str
    outsider: str
    outsider_keytab: str
    stranger: str
    ccache: str

    def kinit(self) -> None:
        """Get the user a ticket into the default cache with ``kinit`` and
        the password."""
        done = subprocess.run(
            ["kinit", self.user],
            input=self.user_password + "\n",
            text=True,
            capture_output=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kinit {self.user} failed: {done.stderr}")

    def kdestroy(self) -> None:
        """Empty the default cache."""
        subprocess.run(["kdestroy", "-q"], check=False, capture_output=True)


def _tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _missing_tools() -> list[str]:
    tools = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kdestroy")
    missing = [tool for tool in tools if _tool(tool) is None]
    try:
        import gssapi  # noqa: F401
        import spnego  # noqa: F401
    except ImportError:
        missing.append("python gssapi/pyspnego (pip install pyspnego[kerberos])")
    return missing


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_configs(directory: str, port: int) -> tuple[str, str]:
    krb5_conf = os.path.join(directory, "krb5.conf")
    kdc_conf = os.path.join(directory, "kdc.conf")
    with open(krb5_conf, "w") as conf:
        conf.write(
            f"[libdefaults]\n"
            f"  default_realm = {REALM}\n"
            f"  dns_lookup_kdc = false\n"
            f"  dns_lookup_realm = false\n"
            f"  dns_canonicalize_hostname = false\n"
            f"  rdns = false\n"
            f"  udp_preference_limit = 1\n"
            f"[realms]\n"
            f"  {REALM} = {{\n"
            f"    kdc = 127.0.0.1:{port}\n"
            f"  }}\n"
            f"[domain_realm]\n"
            f"  localhost = {REALM}\n"
        )
    with open(kdc_conf, "w") as conf:
        conf.write(
            f"[kdcdefaults]\n"
            f"  kdc_listen = 127.0.0.1:{port}\n"
            f"  kdc_tcp_listen = 127.0.0.1:{port}\n"
            f"[realms]\n"
            f"  {REALM} = {{\n"
            f"    database_name = {directory}/principal\n"
            f"    key_stash_file = {directory}/stash\n"
            f"    acl_file = {directory}/kadm5.acl\n"
            f"    max_life = 1h\n"
            f"    supported_enctypes = aes256-cts-hmac-sha1-96:normal\n"
            f"  }}\n"
            f"[logging]\n"
            f"  kdc = STDERR\n"
        )
    open(os.path.join(directory, "kadm5.acl"), "w").close()
    return krb5_conf, kdc_conf


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed ({done.returncode}): {done.stderr}"
        )


def _kadmin(query: str, env: dict[str, str]) -> None:
    _run([_tool("kadmin.local"), "-r", REALM, "-q", query], env)


def _wait_started(kdc: subprocess.Popen) -> None:
    """Read the KDC's log on stderr until it says it is serving."""
    deadline = time.monotonic() + _START_TIMEOUT
    # Raw reads: a buffered readline could keep the awaited line in its
    # buffer while select() waits on an empty pipe.
    fd = kdc.stderr.fileno()
    log = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(deadline - time.monotonic()):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            log += chunk
            if b"commencing operation" in log:
                return
    text = log.decode("utf-8", "replace")
    raise RuntimeError("krb5kdc did not start: " + text[-2000:])


def _start_realm(directory: str) -> tuple[KDC, subprocess.Popen]:
    port = _free_port()
    krb5_conf, kdc_conf = _write_configs(directory, port)
    os.environ.update(
        KRB5_CONFIG=krb5_conf,
        KRB5_KDC_PROFILE=kdc_conf,
        KRB5CCNAME="FILE:" + os.path.join(directory, "ccache"),
        KRB5RCACHETYPE="none",
    )
    for key in ("KRB5_KTNAME", "KRB5_CLIENT_KTNAME"):
        os.environ.pop(key, None)
    env = os.environ.copy()
    master = "master-" + os.urandom(8).hex()
    _run([_tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", master], env)
    realm = KDC(
        realm=REALM,
        directory=directory,
        service_keytab=os.path.join(directory, "http.keytab"),
        user=f"{USER}@{REALM}",
        user_password="pw-" + os.urandom(8).hex(),
        user_keytab=os.path.join(directory, "alice.keytab"),
        outsider=f"{OUTSIDER}@{REALM}",
        outsider_keytab=os.path.join(directory, "carol.keytab"),
        stranger=f"{STRANGER}@{REALM}",
        ccache=env["KRB5CCNAME"],
    )
    _kadmin(f"addprinc -randkey {SERVICE}", env)
    _kadmin(f"ktadd -k {realm.service_keytab} {SERVICE}", env)
    _kadmin(f"addprinc -pw {realm.user_password} {USER}", env)
    _kadmin(f"ktadd -k {realm.user_keytab} -norandkey {USER}", env)
    _kadmin(f"addprinc -randkey {OUTSIDER}", env)
    _kadmin(f"ktadd -k {realm.outsider_keytab} {OUTSIDER}", env)
    kdc = subprocess.Popen(
        [_tool("krb5kdc"), "-n", "-r", REALM],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_started(kdc)
    except BaseException:
        _stop(kdc)
        raise
    # Keep reading the log so that a full pipe never blocks the KDC.
    threading.Thread(target=_drain, args=(kdc.stderr,), daemon=True).start()
    return realm, kdc


def _drain(stream) -> None:
    try:
        while stream.read(65536):
            pass
    except ValueError:
        # The KDC was stopped and its pipe closed while a read was pending.
        pass


def _stop(kdc: subprocess.Popen) -> None:
    kdc.kill()
    kdc.wait()
    kdc.stderr.close()


@pytest.fixture(scope="session")
def kdc() -> Iterator[KDC]:
    """A running test realm (see :class:`KDC`); skips without the Kerberos
    tools, or fails under ``CI=true``."""
    missing = _missing_tools()
    if missing:
        missing_part(
            "MIT Kerberos KDC not available, missing: "
            + ", ".join(missing)
            + " (install krb5-kdc krb5-user libkrb5-dev)"
        )
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    directory = tempfile.mkdtemp(prefix="txkoji-kdc-")
    process = None
    try:
        realm, process = _start_realm(directory)
        yield realm
    finally:
        if process is not None:
            _stop(process)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(directory, ignore_errors=True)
