"""How tests call the web chat API as an integrator's server: an API key, naming the conversation.

The shared ``settings`` fixture (tests/conftest.py) and the end-to-end stacks accept this key."""

from __future__ import annotations

API_KEY = "test-integrator-key-0123456789abcdef"
#: Headers of an integrator's request (``sender`` goes in the body or ``?sender=``).
HEADERS = {"X-Api-Key": API_KEY}
