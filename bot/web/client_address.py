"""Who is calling: the client's address, believed from ``X-Forwarded-For`` only through a
trusted proxy.

Behind a reverse proxy every request comes from the proxy's address, so per-address limits
would put all citizens in one bucket. The proxy says who it forwarded in ``X-Forwarded-For``;
anyone can send that header, so it is read only when the peer itself is one of
``TRUSTED_PROXIES``, and then from the right: the first address that is not a trusted proxy is
the client (entries further left were written by the client and prove nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> list[Network]:
    """``TRUSTED_PROXIES`` entries (``10.0.0.1``, ``10.0.0.0/8``, ``::1``) as networks."""
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def _trusted(address: str, proxies: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def resolve(peer: str, headers: Mapping[str, str], proxies: list[Network]) -> str:
    """The client's address given the socket peer and the request headers."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [
        hop.strip()
        for value in headers.get("x-forwarded-for", "").split(",")
        if (hop := value.strip())
    ]
    for hop in reversed(forwarded):
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy chain: fall back to the proxy itself
    return forwarded[0] if forwarded else peer


def bucket(address: str) -> str:
    """The key per-address limits count under: an IPv4 address, or an IPv6 address's /64
    (every IPv6 client controls at least a /64, so single addresses would be free to rotate)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(connection: HTTPConnection) -> str:
    """The caller's address, as per-address limits count it (``bucket``), for a request or a
    WebSocket (``app.state.trusted_proxies``)."""
    peer = connection.client.host if connection.client else "unknown"
    proxies: list[Network] = getattr(connection.app.state, "trusted_proxies", [])
    return bucket(resolve(peer, connection.headers, proxies))
