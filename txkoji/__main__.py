"""``python -m txkoji``: the ``txkoji`` command."""

from txkoji.cli import console_main

console_main()
