"""The live meeting: routing each client write to its handler, group commit, the hub that
fans results out to every process, and rate limits."""
