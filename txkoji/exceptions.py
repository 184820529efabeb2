"""The txkoji exception tree.

Everything txkoji raises derives from :class:`KojiException`:

* :class:`KojiFault` and its subclasses: the hub answered with an XML-RPC
  fault.  One class per Koji fault code, named as the official ``koji``
  library names them (:class:`GenericError`, :class:`AuthError`, ...).
  :func:`fault_for` picks the class for a code.
* :class:`KojiTransportError` and its subclasses: the request did not get a
  usable HTTP answer (connection refused or lost, timeout, HTTP status other
  than 200, TLS failure).
* :class:`KojiProtocolError`: the hub answered, but not with XML-RPC we can
  read.
* :class:`KojiLoginException`: a login attempt failed.
* :class:`KojiConfigError`: a profile or option is missing or malformed.
* :class:`MultiCallNotRun`: a multicall result was read too early.
* :class:`MalformedMessage` (and :class:`UnknownMessageType`): a
  message-bus message txkoji cannot read.
* :class:`KojiBusError`: a message-bus subscription could not be made or
  went wrong.
"""

from __future__ import annotations

from collections.abc import Sequence


class KojiException(Exception):
    """Root of every exception txkoji raises (the name txkoji 0.10 used)."""


class KojiFault(KojiException):
    """The hub answered a call with an XML-RPC fault.

    This class itself stands for a fault code txkoji does not know; known
    codes get their own subclass (see :func:`fault_for`).

    :ivar faultCode: the integer fault code the hub sent.
    :ivar faultString: the hub's message.
    :ivar method: the hub method that was called, when known.
    """

    faultCode: int = 0

    def __init__(
        self,
        faultString: str = "",
        faultCode: int | None = None,
        method: str | None = None,
    ) -> None:
        if faultCode is not None:
            self.faultCode = faultCode
        self.faultString = faultString
        self.method = method
        super().__init__(faultString)

    def __str__(self) -> str:
        where = f" (calling {self.method})" if self.method else ""
        return f"{type(self).__name__} {self.faultCode}{where}: {self.faultString}"

    def __reduce__(self) -> tuple[type[KojiFault], tuple[str, int, str | None]]:
        return (type(self), (self.faultString, self.faultCode, self.method))


class GenericError(KojiFault):
    """Fault 1000: the hub's general failure, also "Invalid method"."""

    faultCode = 1000


class LockError(GenericError):
    """Fault 1001: a lock prevented the action."""

    faultCode = 1001


class AuthError(GenericError):
    """Fault 1002: bad credentials, invalid session, or not logged in."""

    faultCode = 1002


class TagError(GenericError):
    """Fault 1003: a tag operation failed."""

    faultCode = 1003


class ActionNotAllowed(GenericError):
    """Fault 1004: the user lacks the permission the call needs."""

    faultCode = 1004


class BuildError(GenericError):
    """Fault 1005: a build failed."""

    faultCode = 1005


class AuthLockError(AuthError):
    """Fault 1006: an exclusive session of this user holds the lock."""

    faultCode = 1006


class AuthExpired(AuthError):
    """Fault 1007: the session expired and must be renewed."""

    faultCode = 1007


class SequenceError(AuthError):
    """Fault 1008: the call number was lower than one the hub stored."""

    faultCode = 1008


class RetryError(AuthError):
    """Fault 1009: the call number was repeated; the hub may already have
    run the call, and will not run it again."""

    faultCode = 1009


class PreBuildError(BuildError):
    """Fault 1010: a build pre-check failed."""

    faultCode = 1010


class PostBuildError(BuildError):
    """Fault 1011: a build post-check failed."""

    faultCode = 1011


class BuildrootError(BuildError):
    """Fault 1012: a buildroot problem."""

    faultCode = 1012


class FunctionDeprecated(GenericError):
    """Fault 1013: the hub method is deprecated."""

    faultCode = 1013


class ServerOffline(GenericError):
    """Fault 1014: the hub is in maintenance or lost its database."""

    faultCode = 1014


class LiveCDError(GenericError):
    """Fault 1015: livecd creation failed."""

    faultCode = 1015


class PluginError(GenericError):
    """Fault 1016: a hub plugin failed."""

    faultCode = 1016


class CallbackError(PluginError):
    """Fault 1017: a plugin callback failed."""

    faultCode = 1017


class ApplianceError(GenericError):
    """Fault 1018: appliance creation failed."""

    faultCode = 1018


class ParameterError(GenericError):
    """Fault 1019: wrong arguments for the hub method."""

    faultCode = 1019


class ImportError(GenericError):  # noqa: A001 - the official client's name
    """Fault 1020: an import failed (Koji's name; shadows the builtin only
    when imported by name)."""

    faultCode = 1020


class ConfigurationError(GenericError):
    """Fault 1021: bad client or hub configuration."""

    faultCode = 1021


class LiveMediaError(GenericError):
    """Fault 1022: livemedia creation failed."""

    faultCode = 1022


class GSSAPIAuthError(AuthError):
    """Fault 1023: GSSAPI login failed."""

    faultCode = 1023


class NameValidationError(GenericError):
    """Fault 1024: a name did not pass the hub's validation."""

    faultCode = 1024


FAULT_CLASSES: dict[int, type[KojiFault]] = {
    cls.faultCode: cls
    for cls in (
        GenericError,
        LockError,
        AuthError,
        TagError,
        ActionNotAllowed,
        BuildError,
        AuthLockError,
        AuthExpired,
        SequenceError,
        RetryError,
        PreBuildError,
        PostBuildError,
        BuildrootError,
        FunctionDeprecated,
        ServerOffline,
        LiveCDError,
        PluginError,
        CallbackError,
        ApplianceError,
        ParameterError,
        ImportError,
        ConfigurationError,
        LiveMediaError,
        GSSAPIAuthError,
        NameValidationError,
    )
}


def fault_for(code: int, string: str, method: str | None = None) -> KojiFault:
    """Return the exception instance for a hub fault.

    :param code: the XML-RPC ``faultCode``.
    :param string: the ``faultString``.
    :param method: the hub method that was called.
    :returns: an instance of the class registered for ``code`` in
        ``FAULT_CLASSES``, or a plain :class:`KojiFault` keeping ``code``
        when the code is unknown.
    """
    cls = FAULT_CLASSES.get(code, KojiFault)
    return cls(string, code, method)


class KojiTransportError(KojiException):
    """The request got no usable HTTP answer.

    :ivar url: the hub URL, with any session secrets masked.
    :ivar method: the hub method that was called (as on
        :class:`KojiFault`), or ``None`` when unknown.
    """

    def __init__(
        self, message: str, url: str | None = None, method: str | None = None
    ) -> None:
        self.url = url
        self.method = method
        super().__init__(message)


class KojiConnectionError(KojiTransportError):
    """The connection was refused, reset, or closed before the answer
    was complete."""


class KojiConnectionClosed(KojiConnectionError):
    """The connection, subsession or session pool was closed (or ended by
    its master's ``close()`` or ``logout()``, or belongs to the parent of a
    forked process): a call made afterwards, still queued, or waiting for a
    retry fails with this at once.  Never retried."""


class KojiProxyRefused(KojiConnectionError):
    """The HTTP proxy refused the request: it wants credentials or refused
    the ones given (HTTP 407, or 401 from the proxy), or refuses the
    destination (403).  Never retried: a repeat would be refused again.

    :ivar status: the proxy's HTTP status.
    """

    def __init__(
        self,
        message: str,
        url: str | None = None,
        method: str | None = None,
        status: int = 0,
    ) -> None:
        self.status = status
        super().__init__(message, url, method)


class KojiTimeoutError(KojiTransportError):
    """The call took longer than the configured ``timeout``."""


class KojiHTTPError(KojiTransportError):
    """The hub (or a proxy in front of it) answered with an HTTP status
    other than 200.

    :ivar status: the HTTP status code.
    :ivar reason: the status line's reason phrase, or the start of the body.
    """

    def __init__(
        self,
        message: str,
        url: str | None = None,
        status: int = 0,
        reason: str = "",
        method: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        super().__init__(message, url, method)


class KojiTLSError(KojiTransportError):
    """TLS failed: the hub's certificate could not be verified, or the
    client certificate was refused or could not be loaded."""


class KojiTLSAlert(KojiTLSError):
    """The hub ended the TLS handshake with an alert: it refused what the
    client presented (most often its client certificate).

    :ivar alert: the alert's description, as OpenSSL names it (``"unknown
        ca"``, ``"certificate required"``).
    """

    def __init__(
        self,
        message: str,
        url: str | None = None,
        method: str | None = None,
        alert: str = "",
    ) -> None:
        self.alert = alert
        super().__init__(message, url, method)


class KojiProtocolError(KojiException):
    """The hub's answer was not XML-RPC that txkoji can read.

    :ivar method: the hub method that was called.
    :ivar excerpt: a short excerpt of the offending document.
    """

    def __init__(
        self, message: str, method: str | None = None, excerpt: str = ""
    ) -> None:
        self.method = method
        self.excerpt = excerpt
        super().__init__(message)


class KojiResponseTooLarge(KojiProtocolError):
    """The answer exceeded the connection's ``max_response_size``."""


class KojiLoginException(KojiException):
    """A login attempt failed (the name txkoji 0.10 used).

    :ivar reason: the hub's (or the web server's) reason, when it gave one.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        self.reason = reason
        super().__init__(message)


class MultiCallNotRun(KojiException):
    """A :class:`~txkoji.multicall.MultiCallResult` was read before its
    multicall ran."""


class MalformedMessage(KojiException, ValueError):
    """A message-bus message lacks what its type must carry, or its body is
    not a JSON object."""


class UnknownMessageType(MalformedMessage):
    """A message's ``type`` is none txkoji knows."""


class KojiConfigError(KojiException, ValueError):
    """A profile is missing, or one of its options is malformed.

    Also a :class:`ValueError`, as txkoji 0.10 raised for a missing profile.
    """


class KojiNotFound(KojiException, LookupError):
    """The hub has none of what was asked to be watched.

    :ivar missing: the ids or names the hub does not know, as given.
    """

    def __init__(self, kind: str, missing: Sequence[int | str]) -> None:
        self.missing = list(missing)
        names = ", ".join(str(item) for item in self.missing)
        super().__init__(f"no such {kind}: {names}")


class KojiBusError(KojiException):
    """A message-bus subscription failed: a bad argument, a missing client
    library, or a broker that refused or dropped the subscription."""


class KojiSessionError(KojiException, ValueError):
    """A session request that cannot be done as asked, refused before any
    request: a subsession or session pool without a login, a pool of fewer
    than one subsession, a login on a subsession."""


class KojiFileError(KojiException):
    """A file transfer (a download or an upload) could not be done as
    asked."""


class UnsafePathError(KojiFileError, ValueError):
    """A file name from the hub (or a caller) would land outside the
    destination directory: it is absolute, contains ``..`` or a NUL byte,
    or is empty."""


class ChecksumMismatch(KojiFileError):
    """A transferred file's size or checksum differs from what the hub
    recorded (or from what was sent).

    :ivar path: the local file (or the upload's server path).
    :ivar expected: what was expected.
    :ivar actual: what was found.
    """

    def __init__(self, message: str, path: str, expected: str, actual: str) -> None:
        self.path = path
        self.expected = expected
        self.actual = actual
        super().__init__(message)


class DestinationExists(KojiFileError, FileExistsError):
    """A download's destination file exists and overwriting was not
    asked for."""


class IncompleteRecord(KojiException, ValueError):
    """A record lacks a field needed for what was asked (a build without
    ``version`` cannot name its directory)."""
