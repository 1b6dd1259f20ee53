"""A loopback UDP relay between a WebRTC client and the SFU that drops a fraction of the RTP
packets the SFU sends (never STUN, DTLS or RTCP, RFC 7983 / RFC 5761), so tests can watch
NACK and RTX repair the loss. Seeded, so a run drops the same pattern each time."""

import asyncio
import random
import re


def is_rtp(data: bytes) -> bool:
    """RFC 7983: first byte 128..191 is RTP or RTCP; RFC 5761: RTCP types 192..223 in byte 2."""
    if len(data) < 12 or not 128 <= data[0] <= 191:
        return False
    return not 192 <= data[1] <= 223


class LossyRelay:
    def __init__(self, upstream, drop: float, seed: int = 7):
        self.upstream = upstream
        self.drop = drop
        self.random = random.Random(seed)
        self.client_addr = None
        self.client_side = None
        self.server_side = None
        self.forwarded = 0
        self.dropped = 0

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        relay = self

        class ClientSide(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                relay.client_addr = addr
                relay.server_side.sendto(data)

        class ServerSide(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if relay.client_addr is None:
                    return
                if is_rtp(data) and relay.random.random() < relay.drop:
                    relay.dropped += 1
                    return
                relay.forwarded += 1
                relay.client_side.sendto(data, relay.client_addr)

        self.client_side, _ = await loop.create_datagram_endpoint(ClientSide, local_addr=("127.0.0.1", 0))
        self.server_side, _ = await loop.create_datagram_endpoint(ServerSide, remote_addr=self.upstream)
        return self.client_side.get_extra_info("sockname")[1]

    def close(self):
        for transport in (self.client_side, self.server_side):
            if transport is not None:
                transport.close()


_CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )(127\.0\.0\.1) (\d+)( typ host.*)$", re.IGNORECASE)


def server_address(answer: str):
    """The SFU's 127.0.0.1 host candidate of an answer."""
    for line in answer.splitlines():
        match = _CANDIDATE.match(line)
        if match:
            return (match.group(2), int(match.group(3)))
    raise RuntimeError("the answer has no 127.0.0.1 host candidate")


def redirect(answer: str, port: int) -> str:
    """The answer with every 127.0.0.1 host candidate (and m= port) pointing at the relay."""
    _, server_port = server_address(answer)
    lines = []
    for line in answer.splitlines():
        match = _CANDIDATE.match(line)
        if match:
            line = "%s%s %d%s" % (match.group(1), match.group(2), port, match.group(4))
        elif line.startswith("m=") and (" %d " % server_port) in line:
            line = line.replace(" %d " % server_port, " %d " % port, 1)
        lines.append(line)
    return "\r\n".join(lines) + "\r\n"
