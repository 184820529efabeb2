"""The fake hub's methods; importing this package registers them in
:data:`txkoji.testing.dispatch.DEFAULT_METHODS`."""

from txkoji.testing.methods import (
    builds,
    catalog,
    files,
    history,
    submit,
    system,
    tasks,
    writes,
)

__all__ = [
    "builds",
    "catalog",
    "files",
    "history",
    "submit",
    "system",
    "tasks",
    "writes",
]
