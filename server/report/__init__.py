"""After (and during) the meeting: the same-day report, the exports, and re-importing an export."""
