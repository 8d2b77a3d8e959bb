"""The websocket vocabulary: the messages clients send, validated, and what a handled
message answers (docs/protocol.md)."""
