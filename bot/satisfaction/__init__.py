"""The 1–5 rating (and optional comment) asked once at the end of a conversation: after a
goodbye, after a while idle, after an agent closes a handoff."""
