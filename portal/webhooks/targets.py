"""Which addresses a webhook may call: https (http only when the configuration allows it) on
public addresses only, unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is set.

A coordinator must not make the portal call into its own network (the database, a cloud
metadata service, an admin page on loopback). The address is checked when the webhook is saved
and again before every try: the name is resolved, every address it resolves to must be public,
and the request goes to the address that was checked (the name only in the Host header and for
TLS), so a name that resolves differently a moment later (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

MAX_URL_LENGTH = 2000


class TargetRefused(Exception):
    """The address may not be called; ``message`` is translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as written (the Host header, the TLS name)
    port: int
    address: str  # the checked IP address the request goes to
    path: str  # path and query

    @property
    def connect_url(self) -> str:
        ip = ipaddress.ip_address(self.address)
        shown = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_global and not ip.is_multicast


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_TARGETS"))


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an address a webhook may have, or TargetRefused."""
    url = (url or "").strip()
    if not url:
        raise TargetRefused(_("Give the address to send the events to."))
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(_("The address is too long."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("This is no web address.")) from None
    schemes = ("https", "http") if current_app.config.get("WEBHOOK_ALLOW_HTTP") else ("https",)
    if parts.scheme not in schemes:
        if len(schemes) == 2:
            raise TargetRefused(_("The address must start with https:// or http://."))
        raise TargetRefused(_("The address must start with https://."))
    if not parts.hostname:
        raise TargetRefused(_("This is no web address."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(_("Put no user name or password in the address."))
    if parts.fragment:
        raise TargetRefused(_("The address may not have a # part."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def _addresses(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(_("The address's host name cannot be found.")) from None
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in found))


def resolve(url: str) -> Target:
    """The checked target of ``url`` (TargetRefused when it may not be called)."""
    scheme, host, port, path = parse(url)
    addresses = _addresses(host, port)
    if not addresses:
        raise TargetRefused(_("The address's host name cannot be found."))
    if not allow_private() and not all(_public(ipaddress.ip_address(a)) for a in addresses):
        raise TargetRefused(
            _(
                "The address leads into a private or local network; only public addresses may get events."
            )
        )
    return Target(url.strip(), scheme, host, port, addresses[0], path)
