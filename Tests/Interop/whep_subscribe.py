#!/usr/bin/env python3
"""WHEP subscriber for interop tests.

    whep_subscribe.py URL TOKEN --seconds N [--expect-codec vp8|h264] [--until-ended MAX]
                      [--drop-rtp FRACTION]

Offers recvonly audio and video over a loopback-only aiortc peer connection, receives for
N seconds after the first frame, decodes every video frame and reads back the frame counter
drawn by whip_publish.py (barcode.py), measures the received audio, DELETEs the session and
prints one JSON line:

    {"video_frames": …, "distinct_counters": …, "first_counter": …, "last_counter": …,
     "unreadable_frames": …, "audio_frames": …, "audio_rms": …, "video_codec": …, …}

With --until-ended MAX it receives until every track has ended (the publisher left: RTCP BYE)
or MAX seconds passed, and reports `tracks` and `tracks_ended`. With --drop-rtp F the media
goes through a loopback relay (lossy_proxy.py) that drops that fraction of the SFU's RTP
packets; `relay_dropped` says how many. `first_frame_seconds` is the time from the answer to
the first decoded video frame; `received_ratio` the share of counters between the first and
the last one that were decoded.

Exits 0 when video frames with readable counters arrived (and the negotiated video codec is
the expected one, if given), 1 otherwise.
"""

import argparse
import asyncio
import json
import sys
import time

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

import barcode
import lossy_proxy
import whip_common


class Stats:
    def __init__(self):
        self.video_frames = 0
        self.unreadable = 0
        self.counters = []
        self.audio_frames = 0
        self.audio_square_sum = 0.0
        self.audio_samples = 0
        self.first_frame = asyncio.Event()
        self.first_frame_at = None
        self.sizes = set()
        self.tracks = 0
        self.tracks_ended = 0
        self.all_ended = asyncio.Event()

    def add_video(self, frame):
        self.video_frames += 1
        self.sizes.add("%dx%d" % (frame.width, frame.height))
        counter = barcode.read_frame(frame)
        if counter is None:
            self.unreadable += 1
        else:
            self.counters.append(counter)
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
        self.first_frame.set()

    def add_audio(self, frame):
        self.audio_frames += 1
        data = bytes(frame.planes[0])
        rms = barcode.rms_s16(data)
        count = len(data) // 2
        self.audio_square_sum += rms * rms * count
        self.audio_samples += count


async def consume(track, stats: Stats):
    stats.tracks += 1
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            stats.tracks_ended += 1
            if stats.tracks_ended == stats.tracks:
                stats.all_ended.set()
            return
        if track.kind == "video":
            stats.add_video(frame)
        else:
            stats.add_audio(frame)


async def run(args) -> dict:
    whip_common.loopback_only()
    stats = Stats()
    tasks = []
    pc = RTCPeerConnection(whip_common.configuration([]))
    # Offer every codec aiortc can receive: the server picks the publisher's, and --expect-codec
    # checks that choice rather than forcing it.
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")

    @pc.on("track")
    def on_track(track):
        tasks.append(asyncio.ensure_future(consume(track, stats)))

    await pc.setLocalDescription(await pc.createOffer())
    resource = await whip_common.post_offer(args.url, args.token, pc.localDescription.sdp)
    answer = resource.answer
    relay = None
    if args.drop_rtp > 0:
        relay = lossy_proxy.LossyRelay(lossy_proxy.server_address(answer), args.drop_rtp)
        answer = lossy_proxy.redirect(answer, await relay.start())
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    started = time.monotonic()
    try:
        await asyncio.wait_for(stats.first_frame.wait(), timeout=args.first_frame_timeout)
    except asyncio.TimeoutError:
        pass
    if args.until_ended is not None:
        try:
            await asyncio.wait_for(stats.all_ended.wait(), timeout=args.until_ended)
        except asyncio.TimeoutError:
            pass
    else:
        await asyncio.sleep(args.seconds)
    elapsed = time.monotonic() - started
    codecs = whip_common.section_codecs(resource.answer)
    delete_status = await whip_common.delete(resource.location, args.token)
    await pc.close()
    for task in tasks:
        task.cancel()
    if relay is not None:
        relay.close()
    counters = stats.counters
    span = (max(counters) - min(counters) + 1) if counters else 0
    return {
        "role": "whep",
        "location": resource.location,
        "ice_servers": [{"urls": s.urls, "username": s.username} for s in whip_common.ice_servers_from_links(resource.links)],
        "video_codec": (codecs.get("video") or [None])[0],
        "audio_codec": (codecs.get("audio") or [None])[0],
        "video_frames": stats.video_frames,
        "video_sizes": sorted(stats.sizes),
        "unreadable_frames": stats.unreadable,
        "distinct_counters": len(set(counters)),
        "first_counter": counters[0] if counters else None,
        "last_counter": counters[-1] if counters else None,
        "out_of_order": sum(1 for a, b in zip(counters, counters[1:]) if b < a),
        "audio_frames": stats.audio_frames,
        "audio_rms": round((stats.audio_square_sum / stats.audio_samples) ** 0.5, 1) if stats.audio_samples else 0.0,
        "received_ratio": round(len(set(counters)) / span, 3) if span else 0.0,
        "first_frame_seconds": round(stats.first_frame_at - started, 2) if stats.first_frame_at else None,
        "tracks": stats.tracks,
        "tracks_ended": stats.tracks_ended,
        "relay_dropped": relay.dropped if relay else 0,
        "relay_forwarded": relay.forwarded if relay else 0,
        "seconds": round(elapsed, 2),
        "delete_status": delete_status,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--expect-codec", choices=["vp8", "h264"])
    parser.add_argument("--first-frame-timeout", type=float, default=10)
    parser.add_argument("--until-ended", type=float, metavar="MAX", help="receive until every track ended, at most MAX s")
    parser.add_argument("--drop-rtp", type=float, default=0.0, metavar="FRACTION", help="relay dropping RTP toward us")
    args = parser.parse_args()
    try:
        summary = asyncio.run(run(args))
    except Exception as error:
        print(json.dumps({"role": "whep", "error": str(error)}))
        return 1
    ok = summary["distinct_counters"] > 0
    if args.expect_codec:
        ok = ok and (summary["video_codec"] or "").lower() == args.expect_codec
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
