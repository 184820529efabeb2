"""The keyword options a login call carries besides ``renew``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def proxy_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the ``sslLogin`` keywords that log in as another user: the
    profile's ``proxyuser`` and ``proxyauthtype`` (the hub's number for it,
    see :data:`txkoji.config.PROXY_AUTHTYPES`), ``None`` when unset.

    The hub lets only identities listed in its ``ProxyDNs`` (certificates)
    or ``ProxyPrincipals`` (Kerberos) do so; ``proxyauthtype`` records how
    the proxied user authenticated.
    """
    return {
        "proxyuser": config.get("proxyuser"),
        "proxyauthtype": config.get("proxyauthtype"),
    }
