"""The meeting's rules as pure functions on plain data: tallies, census weighting, the
small-groups privacy rule, ballots, budgets, paired shifts, the evaluation survey, undo,
and the refusals they raise. No database, web or asyncio here (checked by ``make check``)."""
