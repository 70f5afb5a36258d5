"""Where a webhook may send: http(s) URLs whose every address is public, unless the operator allows a network.

Checked when a webhook is saved and again before each delivery, on the addresses the name resolves to
then; the sender connects only to the addresses checked (no second lookup a rebinding DNS could answer differently).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext

from leancoffee.services.errors import Invalid
from leancoffee.webhooks.tables import URL_MAX

# Cloud metadata services, named even where another rule already refuses them.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
            ipaddress.ip_address("100.100.100.200")}


class AddressRefused(Invalid):
    """The URL is not one the app may send to (nothing was sent, nothing saved)."""


@dataclass(frozen=True)
class Target:
    """A URL taken apart: what to connect to and what to say in Host (and TLS's server name)."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == {"http": 80, "https": 443}[self.scheme] else f"{name}:{self.port}"


def parse_url(url) -> Target:
    """An http(s) URL with a host and no credentials, as a Target; Invalid otherwise."""
    text = str(url or "").strip()
    if not text or len(text) > URL_MAX:
        raise AddressRefused(gettext("Give the webhook's address: an http:// or https:// URL of at most %(most)s characters.",
                                     most=URL_MAX))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts = port = None
    if not _well_formed(text, parts):
        raise AddressRefused(gettext("That is not an http:// or https:// address (with a host and no user name or password)."))
    path = parts.path or "/"
    return Target(parts.scheme, parts.hostname, port or {"http": 80, "https": 443}[parts.scheme],
                  path + (f"?{parts.query}" if parts.query else ""))


def _well_formed(text: str, parts) -> bool:
    """http or https, a host, no user name or password, printable ASCII only (no header or log injection)."""
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    return not (parts.username or parts.password) and text.isascii() and not any(ch.isspace() or ord(ch) < 32 for ch in text)


def refused_address(ip, allowed) -> bool:
    """Whether an address is loopback, private, link-local, reserved, multicast or metadata, and not in `allowed`."""
    if any(ip in network for network in allowed if network.version == ip.version):
        return False
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return refused_address(inner, allowed)
    return ip in METADATA or ip in SITE_LOCAL or ip.is_multicast or ip.is_unspecified or not ip.is_global


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# IPv6 forms whose low 32 bits are an IPv4 address, which the standard library's tables (by patch release)
# may call global: the old IPv4-compatible ::a.b.c.d and the translated ::ffff:0:a.b.c.d.
CARRIES_IPV4 = (*NAT64, ipaddress.ip_network("::/96"), ipaddress.ip_network("::ffff:0:0:0/96"))
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but routed inside some networks


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo's client), which is where it leads."""
    if ip.version == 4:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if any(ip in network for network in CARRIES_IPV4):
        return ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(target: Target, allowed) -> list[str]:
    """The addresses to connect to, in the resolver's order: the name's addresses, every one of them allowed
    (else AddressRefused)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(gettext("The webhook's host name does not resolve: check the address.")) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses or any(refused_address(ip, allowed) for ip in addresses):
        raise AddressRefused(gettext("That address leads to this server's own network (loopback, private, link-local or "
                                     "cloud metadata): webhooks may only go to public addresses."))
    return list(dict.fromkeys(str(ip) for ip in addresses))  # once each: a name may list one twice


def check_url(url, allowed) -> Target:
    """A URL safe to save: well formed and resolving only to allowed addresses."""
    target = parse_url(url)
    resolve(target, allowed)
    return target
