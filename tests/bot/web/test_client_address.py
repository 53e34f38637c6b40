"""The client's address: X-Forwarded-For is believed only through a trusted proxy."""

from __future__ import annotations

import pytest

from bot.web.client_address import bucket, networks, resolve

PROXIES = networks(["10.0.0.0/8", "::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # No proxy configured or an untrusted peer: the header is the caller's word, ignored.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # Through the proxy: the proxy's view of its client.
        ("10.0.0.5", "198.51.100.1", "198.51.100.1"),
        # A client that writes its own header gets it appended by the proxy: the rightmost
        # untrusted hop is who really connected.
        ("10.0.0.5", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # Two trusted proxies in a row.
        ("10.0.0.5", "198.51.100.1, 10.1.1.1", "198.51.100.1"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        # The proxy sent nothing: the proxy itself.
        ("10.0.0.5", "", "10.0.0.5"),
        # Garbage in the chain is not an address.
        ("10.0.0.5", "not-an-ip", "10.0.0.5"),
    ],
)
def test_resolve(peer: str, forwarded: str, expected: str) -> None:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    assert resolve(peer, headers, PROXIES) == expected


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert resolve("10.0.0.5", {"x-forwarded-for": "198.51.100.1"}, []) == "10.0.0.5"


def test_a_bad_proxy_entry_is_refused() -> None:
    with pytest.raises(ValueError):
        networks(["10.0.0.0/33"])


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),  # same /64: same bucket
        ("::ffff:198.51.100.7", "198.51.100.7"),  # IPv4 through an IPv6 socket
        ("unknown", "unknown"),
    ],
)
def test_limits_count_ipv6_clients_by_their_64(address: str, key: str) -> None:
    assert bucket(address) == key
