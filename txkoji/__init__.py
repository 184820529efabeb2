"""txkoji: an asynchronous, Twisted-native client for the Koji build system.

Start with :class:`txkoji.Connection`.
"""

from txkoji.connection import Connection
from txkoji.exceptions import KojiException, KojiLoginException

__all__ = ["Connection", "KojiException", "KojiLoginException"]
