"""The fake hub's login options, named after Koji's ``hub.conf`` ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoginRules:
    """Who may log in how (``FakeHub.login_rules``).

    :ivar passwords: whether ``login(user, password)`` accepts the data
        set's passwords.  Koji has no switch for it: a hub takes no password
        logins when its users have no password, and answers AuthError
        ``invalid username or password``; False plays that.
    :ivar proxy_dns: client certificate subjects (RFC 4514, e.g.
        ``CN=kojiweb,O=Example``) allowed to log in as another user
        (``ProxyDNs``).
    :ivar proxy_principals: Kerberos principals allowed to do so
        (``ProxyPrincipals``).
    :ivar allow_proxy_authtype: whether a proxy may say its user
        authenticated by another method than its own (``AllowProxyAuthType``).
    """

    passwords: bool = True
    proxy_dns: tuple[str, ...] = ()
    proxy_principals: tuple[str, ...] = ()
    allow_proxy_authtype: bool = False
