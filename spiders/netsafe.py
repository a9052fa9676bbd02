"""Network safety: a crawl never connects to a loopback, private or otherwise non-public address.

A news outlet lives on the public internet. A catalogue entry, a redirect, a sitemap or a DNS
answer that points the crawler at 127.0.0.1, 10.0.0.0/8, 169.254.169.254 (cloud metadata),
::1, fc00::/7 or an IPv4-mapped IPv6 form of them is refused, unless the source sets
`allow_private_network: true` (fixture sites on loopback, an intranet mirror). The runner puts
the source's flag into the crawl's settings as NEWSLAKE_ALLOW_PRIVATE_NETWORK.

Two checks, because a host name is not an address:

- `NetSafeResolver` (Scrapy's TWISTED_DNS_RESOLVER) sees every address a connection is about
  to use, IP literals included: Twisted's HostnameEndpoint hands every host to the reactor's
  name resolver. A refused address is not passed on, so nothing connects to it; a name that
  resolves *only* to refused addresses (DNS rebinding: a public-looking name answering
  127.0.0.1) fails to resolve, and the refusal is remembered with the address.
- `PrivateNetworkMiddleware` refuses a request to an IP-literal host before anything happens,
  and turns the resolver's lookup failure into a `PrivateAddressRequest` naming the address,
  so the request's errback records why (not a retried DNS error).

Behind an HTTP proxy (http_proxy in the environment) names are resolved by the proxy: only
IP-literal hosts are checked then.

`guarded_opener()` gives the same rule to plain urllib fetches (`newslake sources check`): the
address a connection actually reached is checked before any request is sent on it.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import urllib.request
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.resolver import CachingHostnameResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from twisted.internet.interfaces import IAddress, IHostResolution

logger = logging.getLogger(__name__)

SETTING = "NEWSLAKE_ALLOW_PRIVATE_NETWORK"
STAT = "newslake/private_address_refused"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Host name -> why its addresses were refused (filled by the resolver, read by the middleware;
# both run in the crawl process's reactor thread).
_refusals: dict[str, str] = {}


class PrivateAddressRequest(IgnoreRequest):
    """The request would connect to a loopback, private or otherwise non-public address."""


def _address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None


def address_kind(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address ("loopback", "private", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 reaches 127.0.0.1; so does the older IPv4-compatible ::127.0.0.1.
        embedded = address.ipv4_mapped
        if embedded is None and address.packed[:12] == bytes(12) and int(address) > 1:
            embedded = ipaddress.IPv4Address(address.packed[12:])
        if embedded is not None:
            inner = address_kind(embedded)
            return f"IPv4-mapped {inner}" if inner else None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"  # 169.254.169.254 answers cloud metadata requests
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-public"  # e.g. 100.64.0.0/10, shared carrier-grade NAT space
    return None


def refusal(host: str, address: str) -> str | None:
    """The message refusing a connection to `address` (resolved from `host`), or None."""
    parsed = _address(address)
    if parsed is None:
        return None
    kind = address_kind(parsed)
    if kind is None:
        return None
    shown = f"[{parsed}]" if parsed.version == 6 else str(parsed)
    where = shown if _address(host) is not None else f"{host} resolves to {shown}"
    return (
        f"refused: {where}, a {kind} address; the source does not set allow_private_network: true"
    )


def refusal_for_host(host: str) -> str | None:
    """Why the resolver refused every address of `host` in this crawl, if it did."""
    return _refusals.get(host)


@implementer(IResolutionReceiver)
class _GuardedReceiver:
    """Passes on the public addresses of a resolution, keeps back (and notes) the others."""

    def __init__(self, receiver: IResolutionReceiver, host: str) -> None:
        self.receiver: Any = receiver  # a zope interface: mypy cannot check calls through it
        self.host = host
        self.passed = 0
        self.refused: str | None = None

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        message = refusal(self.host, str(getattr(address, "host", "")))
        if message is None:
            self.passed += 1
            self.receiver.addressResolved(address)
        elif self.refused is None:
            self.refused = message

    def resolutionComplete(self) -> None:
        if self.refused is not None:
            if self.passed == 0:
                _refusals[self.host] = self.refused
            logger.warning("DNS: %s", self.refused)
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class NetSafeResolver(CachingHostnameResolver):
    """Scrapy's caching IPv4+IPv6 resolver, keeping non-public addresses from connections.

    Addresses are checked on every resolution, cached or not, so a cache filled while
    private networks were allowed cannot leak them either.
    """

    def __init__(self, reactor: Any, cache_size: int, allow_private: bool) -> None:
        super().__init__(reactor, cache_size)
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Self:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, settings.getbool(SETTING))

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        receiver: Any = resolutionReceiver
        if not self.allow_private:
            receiver = _GuardedReceiver(resolutionReceiver, hostName)
        return super().resolveHostName(
            receiver, hostName, portNumber, addressTypes, transportSemantics
        )


class PrivateNetworkMiddleware:
    """Refuses IP-literal hosts that are not public, and names the address a DNS answer gave.

    Sits after the offsite and robots.txt middlewares for requests, and before the retry
    middleware for exceptions (a refused address is not worth retrying).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool(SETTING)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _refuse(self, request: Request, message: str) -> PrivateAddressRequest:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(STAT)
        origin = (request.meta.get("redirect_urls") or [request.url])[0]
        via = f" (redirected from {origin})" if origin != request.url else ""
        return PrivateAddressRequest(f"{request.url}: {message}{via}")

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.allow_private:
            return
        host = urlparse_cached(request).hostname or ""
        if _address(host) is None:
            return  # a name: the resolver checks what it resolves to
        message = refusal(host, host)
        if message is not None:
            raise self._refuse(request, message)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        if self.allow_private or not isinstance(exception, CannotResolveHostError):
            return
        message = refusal_for_host(urlparse_cached(request).hostname or "")
        if message is not None:
            raise self._refuse(request, message)


def _check_peer(connection: http.client.HTTPConnection) -> None:
    assert connection.sock is not None
    peer = str(connection.sock.getpeername()[0])
    message = refusal(connection.host, peer)
    if message is not None:
        connection.close()
        raise OSError(message)


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req)


def guarded_opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """A urllib opener that refuses non-public addresses (an OSError naming the address),
    unless `allow_private`. Redirects are checked too: each hop opens its own connection."""
    if allow_private:
        return urllib.request.build_opener()
    return urllib.request.build_opener(_GuardedHTTPHandler, _GuardedHTTPSHandler)
