"""Shared pieces of the WHIP/WHEP interop clients: HTTP exchange, Link header parsing,
loopback-only ICE, and codec selection for aiortc."""

import asyncio
import re
import urllib.error
import urllib.parse
import urllib.request

from aiortc import RTCConfiguration, RTCIceServer


def loopback_only() -> None:
    """Gather only 127.0.0.1 host candidates (aioice asks get_host_addresses at gather time)."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


_LINK = re.compile(r'\s*<([^>]*)>\s*((?:;\s*[A-Za-z0-9_.\-*]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?\s*)*)')
_PARAM = re.compile(r';\s*([A-Za-z0-9_.\-*]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?')


def parse_links(values: list) -> list:
    """RFC 8288 §3 Link values → list of (uri, {param: value}); quoted strings unescaped."""
    links = []
    for value in values:
        position = 0
        while position < len(value):
            match = _LINK.match(value, position)
            if not match:
                break
            params = {}
            for name, raw in _PARAM.findall(match.group(2)):
                raw = raw.strip()
                if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params[name.lower()] = raw
            links.append((match.group(1), params))
            position = match.end()
            while position < len(value) and value[position] in ", ":
                position += 1
    return links


def ice_servers_from_links(values: list) -> list:
    """RFC 9725 §4.6: `rel="ice-server"` links become RTCIceServer entries."""
    servers = []
    for uri, params in parse_links(values):
        if params.get("rel") != "ice-server":
            continue
        servers.append(RTCIceServer(urls=uri, username=params.get("username"), credential=params.get("credential")))
    return servers


def configuration(servers: list) -> RTCConfiguration:
    """An explicit server list: aiortc would otherwise add Google's STUN server."""
    return RTCConfiguration(iceServers=servers)


class Resource:
    """The result of a WHIP/WHEP POST."""

    def __init__(self, status, location, etag, links, answer):
        self.status = status
        self.location = location
        self.etag = etag
        self.links = links
        self.answer = answer


def _request(method: str, url: str, token: str, body: bytes = None, content_type: str = None, timeout: float = 10):
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


async def post_offer(url: str, token: str, sdp: str) -> Resource:
    status, headers, body = await asyncio.to_thread(_request, "POST", url, token, sdp.encode(), "application/sdp")
    if status != 201:
        raise RuntimeError("POST %s answered %d: %s" % (url, status, body.decode(errors="replace")))
    location = urllib.parse.urljoin(url, headers.get("Location", ""))
    return Resource(status, location, headers.get("ETag"), headers.get_all("Link") or [], body.decode())


async def delete(url: str, token: str) -> int:
    status, _, _ = await asyncio.to_thread(_request, "DELETE", url, token)
    return status


def section_codecs(sdp: str) -> dict:
    """kind → encoding names of the first m-section of that kind (rtx/red excluded)."""
    result = {}
    kind = None
    formats = []
    names = {}
    for line in sdp.splitlines() + ["m=end 0 X"]:
        if line.startswith("m="):
            if kind and kind not in result:
                result[kind] = [names[f] for f in formats if f in names and names[f].lower() not in ("rtx", "red")]
            fields = line[2:].split()
            kind, formats, names = fields[0], fields[3:], {}
        elif line.startswith("a=rtpmap:"):
            pt, rest = line[len("a=rtpmap:"):].split(" ", 1)
            names[pt] = rest.split("/")[0]
    return result


def prefer_codec(transceiver, kind: str, name: str) -> None:
    """Offer only `name` (plus its RTX) for a transceiver."""
    from aiortc import RTCRtpSender

    capabilities = RTCRtpSender.getCapabilities(kind)
    wanted = [c for c in capabilities.codecs if c.mimeType.lower() == ("%s/%s" % (kind, name)).lower()]
    rtx = [c for c in capabilities.codecs if c.mimeType.lower() == "%s/rtx" % kind]
    if not wanted:
        raise SystemExit("aiortc has no %s codec %s" % (kind, name))
    transceiver.setCodecPreferences(wanted + rtx)
