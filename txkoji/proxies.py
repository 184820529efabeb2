"""Which HTTP proxy a request to the hub goes through.

The official koji client talks HTTP through ``requests``, which takes its
proxies from the environment; txkoji reads the same variables with the
same rules, and adds a ``proxy`` option.  The choice, first match wins:

1. the ``proxy`` keyword option of the connection;
2. the profile's ``proxy`` option;
3. the environment, as ``requests`` reads it (below);
4. no proxy.

``proxy`` is a URL (``http://user:password@proxy.example.com:3128``, the
scheme defaults to ``http://`` and the port to 80; ``https://`` for TLS to
the proxy itself, port 443 by default), or ``None`` (keyword),
``none`` or an empty value (file) for no proxy at all, whatever the
environment says; its default, ``environment``, means step 3.  A proxy
set by the option is used for every request to the hub: ``no_proxy`` does
not apply to it.

The environment (read once, when the choice is made):

* ``<scheme>_proxy`` in any case.  A name whose ``_proxy`` is lower case
  (``https_proxy``) wins over one whose is not (``HTTPS_PROXY``), and an
  empty lower-case one cancels the other.  Under CGI (``REQUEST_METHOD``
  set) an ``HTTP_PROXY`` that is not lower case is ignored, since a client
  could set it with a ``Proxy:`` header.
* A request to an ``https://`` URL uses the ``https`` proxy, else the
  ``all`` one (``all_proxy``); an ``http://`` URL the ``http`` one, else
  ``all``.
* ``no_proxy`` (else ``NO_PROXY``, when ``no_proxy`` is unset or empty):
  comma-separated entries, blanks ignored.  An entry matches a host when
  equal to it or to one of its parent domains (``example.com`` and
  ``.example.com`` both match ``koji.example.com``), with or without the
  URL's explicit port (``koji.example.com:8443``).  For an IPv4 host an
  entry may be the address or a network (``10.0.0.0/8``).  ``*`` as the
  whole value bypasses every proxy.  Host names compare without regard to
  case.

``http://`` and ``https://`` proxies are supported.  With ``https://``,
txkoji speaks TLS to the proxy (its certificate verified as the hub's is,
against ``serverca`` or the system's trust store, for the proxy's host
name), then asks it for the ``CONNECT`` tunnel (or sends it ``http://``
requests) inside that TLS, as ``requests`` does.  A ``socks`` proxy, or
any other scheme, is a :class:`~txkoji.exceptions.KojiConfigError`, from
the option and from the environment alike, when the connection is made.
Proxy credentials are never shown: ``ProxyURL.shown`` and ``repr``
mask them.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from txkoji.config import mask_userinfo
from txkoji.exceptions import KojiConfigError

#: The ``proxy`` option's value that means "as the environment says".
FROM_ENVIRONMENT = "environment"

#: ``proxy`` option values (any case) that mean "no proxy".
NO_PROXY_VALUES = frozenset({"", "none"})


@dataclass(frozen=True)
class ProxyURL:
    """An ``http://`` or ``https://`` forward proxy.

    :ivar host: the proxy's host name or address.
    :ivar port: its port.
    :ivar tls: whether the connection to the proxy itself is TLS
        (``https://``).
    :ivar shown: the URL as messages show it, credentials masked.
    :ivar authorization: the ``Proxy-Authorization`` header value (``Basic``)
        when the URL carries credentials, else ``None``.  Never shown by
        ``repr``.
    """

    host: str
    port: int
    shown: str
    authorization: bytes | None = field(default=None, repr=False)
    tls: bool = False

    @classmethod
    def parse(cls, text: str, source: str) -> ProxyURL:
        """Read a proxy URL (``http://`` assumed without a scheme).

        :param source: where it came from (``the proxy option``,
            ``environment variable https_proxy``), for messages.
        :raises KojiConfigError: for a scheme other than ``http`` and
            ``https``, no host, or a malformed port; the message masks
            credentials.
        """
        if "://" not in text:
            text = "http://" + text
        shown = mask_userinfo(text)
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise KojiConfigError(
                f"proxy {shown!r} from {source}: txkoji supports only http:// "
                f"and https:// proxies, not {scheme}://"
            )
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise KojiConfigError(
                f"proxy {shown!r} from {source} has a malformed port"
            ) from None
        if not parts.hostname:
            raise KojiConfigError(f"proxy {shown!r} from {source} names no host")
        authorization = None
        # As requests: credentials need a user name and a password part
        # (``user@proxy`` sends none).
        if parts.username and parts.password is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password)}"
            authorization = b"Basic " + base64.b64encode(pair.encode("latin-1"))
        return cls(parts.hostname, port, shown, authorization, scheme == "https")

    def __str__(self) -> str:
        return self.shown


def environment_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the ``<scheme>_proxy`` variables of ``environ`` as
    ``{scheme: value}`` (``no`` for ``no_proxy``), lower-case names
    winning, as ``urllib.request.getproxies`` reads them on Linux."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        if value and name.lower().endswith("_proxy"):
            found[name[:-6].lower()] = value
    if "REQUEST_METHOD" in environ:
        found.pop("http", None)
    # A second look at names spelled with a lower-case suffix: they win,
    # and an empty one removes what the first look found.
    for name, value in environ.items():
        if name.endswith("_proxy"):
            if value:
                found[name[:-6].lower()] = value
            else:
                found.pop(name[:-6].lower(), None)
    return found


def _is_ipv4(host: str) -> bool:
    # requests tells addresses by inet_aton, which also takes short forms.
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _in_network(host: str, entry: str) -> bool | None:
    """Whether IPv4 ``host`` is in network ``entry`` (``a.b.c.d/n``, n from
    1 to 32), or ``None`` when ``entry`` is no such network."""
    address, slash, bits = entry.partition("/")
    if not slash or "/" in bits or not bits.isdigit() or not 1 <= int(bits) <= 32:
        return None
    if not _is_ipv4(address):
        return None
    network = ipaddress.IPv4Network(
        (socket.inet_aton(address), int(bits)), strict=False
    )
    return ipaddress.IPv4Address(socket.inet_aton(host)) in network


def _listed(no_proxy: str, host: str, port: int | None) -> bool:
    """requests' own reading of ``no_proxy``: exact entries (blanks
    removed); addresses and networks for an IPv4 host, else the host or a
    parent domain, with or without the URL's port."""
    entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
    if _is_ipv4(host):
        return any(_in_network(host, entry) or host == entry for entry in entries)
    names = [host] if port is None else [host, f"{host}:{port}"]
    for entry in entries:
        entry = entry.lstrip(".")
        if any(name == entry or name.endswith("." + entry) for name in names):
            return True
    return False


def _suffix_listed(no_proxy: str, host: str) -> bool:
    """urllib's reading of ``no_proxy`` (which requests also consults):
    ``*`` alone bypasses everything, else entries (stripped, case
    ignored) that equal the host or a parent domain of it."""
    if no_proxy == "*":
        return True
    for entry in no_proxy.split(","):
        entry = entry.strip().lstrip(".").lower()
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def bypasses_proxy(url: str, environ: Mapping[str, str]) -> bool:
    """Tell whether ``no_proxy`` in ``environ`` exempts ``url`` from the
    environment's proxies (see the module's rules)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return True
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if no_proxy and _listed(no_proxy, host, parts.port or None):
        return True
    listed = environment_proxies(environ).get("no")
    return listed is not None and _suffix_listed(listed, host)


class ProxyChoice:
    """Picks the proxy for each URL, from the ``proxy`` option or the
    environment.

    :param setting: the ``proxy`` option: a proxy URL, ``None`` / ``none``
        / empty for no proxy, or :data:`FROM_ENVIRONMENT`.
    :param environ: the environment to read (default: ``os.environ``, read
        now).
    :raises KojiConfigError: when ``setting``, or the environment's
        ``http``, ``https`` or ``all`` proxy, is a malformed or unsupported
        proxy URL.
    """

    def __init__(
        self,
        setting: str | None = FROM_ENVIRONMENT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._fixed: ProxyURL | None = None
        self._environ: dict[str, str] | None = None
        self._chosen: dict[str, ProxyURL | None] = {}
        if setting is None or setting.strip().lower() in NO_PROXY_VALUES:
            return
        if setting.strip().lower() == FROM_ENVIRONMENT:
            source = os.environ if environ is None else environ
            self._environ = {
                name: value
                for name, value in source.items()
                if name.lower().endswith("_proxy") or name == "REQUEST_METHOD"
            }
            # A malformed or unsupported proxy is refused now, not at the
            # first request that would use it.
            found = environment_proxies(self._environ)
            for key in ("http", "https", "all"):
                if found.get(key):
                    ProxyURL.parse(found[key], f"the {key}_proxy environment variable")
        else:
            self._fixed = ProxyURL.parse(setting.strip(), "the proxy option")

    @property
    def may_proxy(self) -> bool:
        """Whether any URL can get a proxy: ``False`` when the option says
        none, or the environment names no http, https or all proxy."""
        if self._environ is None:
            return self._fixed is not None
        found = environment_proxies(self._environ)
        return any(found.get(key) for key in ("http", "https", "all"))

    def for_url(self, url: str) -> ProxyURL | None:
        """Return the proxy a request to ``url`` goes through, or ``None``
        to connect directly (worked out once per scheme, host and port).

        :raises KojiConfigError: when the environment names an unsupported
            or malformed proxy for it (naming the variable).
        """
        if self._environ is None:
            return self._fixed
        origin = "/".join(url.split("/", 3)[:3])
        if origin not in self._chosen:
            self._chosen[origin] = self._from_environment(origin)
        return self._chosen[origin]

    def _from_environment(self, url: str) -> ProxyURL | None:
        assert self._environ is not None
        if bypasses_proxy(url, self._environ):
            return None
        scheme = urlsplit(url).scheme.lower()
        found = environment_proxies(self._environ)
        for key in (scheme, "all"):
            if found.get(key):
                return ProxyURL.parse(
                    found[key], f"the {key}_proxy environment variable"
                )
        return None

    def __repr__(self) -> str:
        if self._environ is not None:
            return "<ProxyChoice from the environment>"
        return f"<ProxyChoice {self._fixed.shown if self._fixed else 'none'}>"
