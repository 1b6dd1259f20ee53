#!/usr/bin/env python3
"""An aiortc participant of a CommuCat room (the `/rtc` protocol, docs/ROOMS.md).

    room_aiortc.py BASE_URL ROOM NAME --seconds N

Takes a development token (`POST /api/dev/token`), joins over the room WebSocket, publishes a
numbered-barcode VP8 video track and a tone (whip_publish.py's tracks), answers every
`subscriber_offer` the SFU sends, and decodes every remote video track it receives. After N seconds
it leaves and prints one JSON line: the names of the participants whose video it decoded, frames
decoded per remote participant, and how many frames it sent. Exits 0 when it decoded video from
every other participant it saw join.
"""

import argparse
import logging
import asyncio
import json
import sys
import urllib.request

import websockets
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

import whip_common
from whip_publish import CounterVideoTrack, ToneAudioTrack


def dev_token(base, room, name):
    request = urllib.request.Request(f"{base}/api/dev/token", data=json.dumps({"room": room, "name": name}).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["token"]


async def consume(track, counts, participant):
    """Decodes a remote video track until it ends, counting frames per participant."""
    while True:
        try:
            await track.recv()
        except MediaStreamError:
            return
        counts[participant] = counts.get(participant, 0) + 1


async def run(args):
    whip_common.loopback_only()
    token = dev_token(args.base, args.room, args.name)
    ws_url = args.base.replace("http://", "ws://") + f"/rtc?access_token={token}&name={args.name}"
    names = {}
    counts = {}
    tasks = []
    video = CounterVideoTrack()
    async with websockets.connect(ws_url, open_timeout=10, max_size=4 * 1024 * 1024) as ws:
        joined = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if joined.get("type") != "joined":
            return {"ok": False, "error": f"not joined: {joined}"}
        for participant in joined["participants"]:
            names[participant["participant_id"]] = participant["name"]
        # max-bundle: the SFU offers one BUNDLE group. Under aiortc's default "balanced" policy the
        # fourth m-line of an offer (the second remote video) keeps a transport of its own that never
        # connects, so its receiver never starts and its packets are routed, by payload type, into
        # the other video track (seen with aiortc 1.16: two Chromium publishers in one room).
        configuration = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        pub = RTCPeerConnection(configuration)
        sub = RTCPeerConnection(configuration)

        tracks_seen = []

        @sub.on("track")
        def on_track(track):
            # aiortc names a remote track after its a=msid track id, which the SFU writes as
            # "<publisher participant id>-pub<N>-<mid>".
            participant = track.id.split("-pub")[0]
            tracks_seen.append({"id": track.id, "kind": track.kind})
            if track.kind == "video":
                tasks.append(asyncio.ensure_future(consume(track, counts, participant)))

        transceiver = pub.addTransceiver(video, direction="sendonly")
        whip_common.prefer_codec(transceiver, "video", "VP8")
        pub.addTransceiver(ToneAudioTrack(), direction="sendonly")
        await pub.setLocalDescription(await pub.createOffer())
        await ws.send(json.dumps({"type": "publish", "sdp": pub.localDescription.sdp}))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + args.seconds
        offers = 0
        while loop.time() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - loop.time()))
            except asyncio.TimeoutError:
                break
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "publish_answer":
                await pub.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
            elif kind == "subscriber_offer":
                offers += 1
                await sub.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
                await sub.setLocalDescription(await sub.createAnswer())
                await ws.send(json.dumps({"type": "subscriber_answer", "sdp": sub.localDescription.sdp}))
            elif kind == "participant_joined":
                names[message["participant"]["participant_id"]] = message["participant"]["name"]
            elif kind == "error":
                print(json.dumps({"warning": message}), file=sys.stderr)
        stats = []
        for report in (await sub.getStats()).values():
            if report.type == "inbound-rtp":
                stats.append({"kind": report.kind, "ssrc": report.ssrc, "packets": report.packetsReceived,
                              "lost": report.packetsLost, "jitter": report.jitter})
        routing = {}
        try:
            router = sub.getTransceivers()[0].receiver.transport._rtp_router
            def who(receiver):
                track = getattr(receiver, "track", None)
                return track.id if track is not None else "?"
            remote_ice = getattr(sub, "_RTCPeerConnection__remoteIce", {})
            transceivers = [{"mid": t.mid, "kind": t.kind, "direction": t.direction, "current": t.currentDirection,
                             "started": getattr(t.receiver, "_RTCRtpReceiver__started", None), "remote_ice": t in remote_ice,
                             "codecs": [c.payloadType for c in t._codecs]} for t in sub.getTransceivers()]
            routing = {"transceivers": transceivers, "ssrc": {str(k): who(v) for k, v in router.ssrc_table.items()},
                       "pt": {str(k): sorted(who(r) for r in v) for k, v in router.payload_type_table.items()}}
        except Exception as error:  # noqa: BLE001 - diagnostics only
            routing = {"error": str(error)}
        offer_sections = [line for line in (sub.remoteDescription.sdp if sub.remoteDescription else "").splitlines()
                          if line.startswith(("m=", "a=mid", "a=ssrc:", "a=rtpmap"))]
        await ws.send(json.dumps({"type": "leave"}))
    for task in tasks:
        task.cancel()
    await pub.close()
    await sub.close()
    decoded = {names.get(p, p): n for p, n in counts.items()}
    seen = sorted(n for p, n in names.items())
    return {"ok": all(decoded.get(n, 0) > 0 for n in seen) and bool(seen), "decoded": decoded, "seen": seen,
            "frames_sent": video.counter, "participant_id": joined["participant_id"], "tracks": tracks_seen, "inbound": stats,
            "routing": routing, "offer": offer_sections, "subscriber_offers": offers}


def main():
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("room")
    parser.add_argument("name")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    try:
        result = asyncio.run(asyncio.wait_for(run(args), args.seconds + 30))
    except Exception as error:  # noqa: BLE001 - reported in the JSON line
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    print(json.dumps(result))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
