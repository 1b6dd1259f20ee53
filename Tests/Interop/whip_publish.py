#!/usr/bin/env python3
"""WHIP publisher (RFC 9725) for interop tests.

    whip_publish.py URL TOKEN --seconds N --codec vp8|h264

Sends one sendonly video track (320x240 at 30 fps, a 16-bit frame counter drawn as a
macroblock-aligned barcode, see barcode.py) and one 440 Hz tone audio track over a
loopback-only aiortc peer connection, for N seconds, then DELETEs the session.
ICE servers from the answer's Link headers (RFC 9725 §4.6) are parsed and reported; with
--use-link-ice-servers the session is re-established once with them.
Prints one JSON line (frames sent, first/last counter, codec, location) and exits 0.
"""

import argparse
import asyncio
import fractions
import json
import sys
import time

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from av import AudioFrame

import barcode
import whip_common

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms


class CounterVideoTrack(VideoStreamTrack):
    """Frames numbered 0, 1, 2, … with the number drawn as a barcode."""

    def __init__(self):
        super().__init__()
        self.counter = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = barcode.make_frame(self.counter & 0xFFFF)
        frame.pts = pts
        frame.time_base = time_base
        self.counter += 1
        return frame


class ToneAudioTrack(AudioStreamTrack):
    """A continuous 440 Hz sine, 20 ms frames of s16 mono at 48 kHz."""

    def __init__(self):
        super().__init__()
        self.sample = 0
        self.start = None
        self.frames = 0

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        wait = self.start + self.sample / AUDIO_RATE - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(barcode.tone_samples(self.sample, AUDIO_SAMPLES, AUDIO_RATE))
        frame.pts = self.sample
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self.sample += AUDIO_SAMPLES
        self.frames += 1
        return frame


async def publish_once(url, token, codec, servers):
    pc = RTCPeerConnection(whip_common.configuration(servers))
    video = CounterVideoTrack()
    audio = ToneAudioTrack()
    video_transceiver = pc.addTransceiver(video, direction="sendonly")
    whip_common.prefer_codec(video_transceiver, "video", "H264" if codec == "h264" else "VP8")
    pc.addTransceiver(audio, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before returning
    resource = await whip_common.post_offer(url, token, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=resource.answer, type="answer"))
    return pc, video, audio, resource


async def run(args) -> dict:
    whip_common.loopback_only()
    pc, video, audio, resource = await publish_once(args.url, args.token, args.codec, [])
    link_servers = whip_common.ice_servers_from_links(resource.links)
    if args.use_link_ice_servers and link_servers:
        await whip_common.delete(resource.location, args.token)
        await pc.close()
        pc, video, audio, resource = await publish_once(args.url, args.token, args.codec, link_servers)
    connected = asyncio.Event()

    @pc.on("connectionstatechange")
    def on_state():
        if pc.connectionState == "connected":
            connected.set()

    if pc.connectionState == "connected":
        connected.set()
    try:
        await asyncio.wait_for(connected.wait(), timeout=args.connect_timeout)
    except asyncio.TimeoutError:
        pass
    first = video.counter
    await asyncio.sleep(args.seconds)
    summary = {
        "role": "whip",
        "connected": pc.connectionState == "connected",
        "location": resource.location,
        "etag": resource.etag,
        "ice_servers": [{"urls": s.urls, "username": s.username} for s in link_servers],
        "answer_codecs": whip_common.section_codecs(resource.answer),
        "video_frames_sent": video.counter,
        "first_counter_after_connect": first,
        "last_counter": video.counter - 1,
        "audio_frames_sent": audio.frames,
    }
    summary["delete_status"] = await whip_common.delete(resource.location, args.token)
    await pc.close()
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--codec", choices=["vp8", "h264"], default="vp8")
    parser.add_argument("--connect-timeout", type=float, default=10)
    parser.add_argument("--use-link-ice-servers", action="store_true")
    args = parser.parse_args()
    try:
        summary = asyncio.run(run(args))
    except Exception as error:
        print(json.dumps({"role": "whip", "error": str(error)}))
        return 1
    print(json.dumps(summary))
    return 0 if summary["connected"] else 1


if __name__ == "__main__":
    sys.exit(main())
