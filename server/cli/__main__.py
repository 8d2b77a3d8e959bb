"""``python -m server.cli``: the ``townhall`` command without the installed script
(used to start server processes from tests and benchmarks)."""

from server.cli.main import app

app()
