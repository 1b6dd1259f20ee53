#!/usr/bin/env python3
"""Writes the aiortc WHIP (sendonly VP8/H.264 + Opus, with RTX) and WHEP (recvonly) offers used as
fixtures by Tests/SignallingTests: `make_fixture_offers.py OUTPUT_DIR`."""

import asyncio
import pathlib
import sys

from aiortc import RTCPeerConnection

import whip_common
from whip_publish import CounterVideoTrack, ToneAudioTrack


async def offers():
    whip_common.loopback_only()
    publisher = RTCPeerConnection(whip_common.configuration([]))
    publisher.addTransceiver(CounterVideoTrack(), direction="sendonly")
    publisher.addTransceiver(ToneAudioTrack(), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    subscriber = RTCPeerConnection(whip_common.configuration([]))
    subscriber.addTransceiver("video", direction="recvonly")
    subscriber.addTransceiver("audio", direction="recvonly")
    await subscriber.setLocalDescription(await subscriber.createOffer())
    result = (publisher.localDescription.sdp, subscriber.localDescription.sdp)
    await publisher.close()
    await subscriber.close()
    return result


def main():
    directory = pathlib.Path(sys.argv[1])
    whip, whep = asyncio.run(offers())
    (directory / "aiortc-whip-offer.sdp").write_text(whip, newline="")
    (directory / "aiortc-whep-offer.sdp").write_text(whep, newline="")


if __name__ == "__main__":
    main()
