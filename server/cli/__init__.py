"""The one ``townhall`` command and what only it runs: the demo, the load test, the links
printed on start, follow-up contact commands."""
