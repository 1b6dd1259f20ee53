#!/usr/bin/env python3
"""A tiny WHIP/WHEP server built on aiortc, to check the interop clients without CommuCat.

    echo_server.py [--port 0] [--token T]

Prints `{"port": N}` once listening. POST /whip/{room} (application/sdp) answers 201 with a
Location, an ETag and a `Link: <stun:…>; rel="ice-server"` header; POST /whep/{room} relays the
room's latest publisher's tracks (decoded and re-encoded by aiortc, so codecs can differ);
PATCH answers 204, DELETE 200. Bearer tokens are compared with --token when it is given.
Not a model of CommuCat: only of the HTTP exchange the clients rely on.
"""

import argparse
import asyncio
import json
import secrets

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

import whip_common

relay = MediaRelay()
publishers = {}  # room -> list of tracks
sessions = {}  # path -> RTCPeerConnection


async def read_request(reader):
    line = (await reader.readline()).decode("latin-1").strip()
    if not line:
        return None
    method, path, _ = line.split(" ", 2)
    headers = {}
    while True:
        header = (await reader.readline()).decode("latin-1").strip()
        if not header:
            break
        name, value = header.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


def response(status, reason, headers=(), body=b""):
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Content-Length: %d" % len(body), "Connection: close"]
    lines += ["%s: %s" % item for item in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def answer(offer_sdp, kind, room):
    pc = RTCPeerConnection(whip_common.configuration([]))
    if kind == "whip":
        tracks = []
        publishers[room] = tracks

        @pc.on("track")
        def on_track(track):
            tracks.append(track)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    else:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        tracks = publishers.get(room, [])
        for transceiver in pc.getTransceivers():
            source = next((t for t in tracks if t.kind == transceiver.kind), None)
            if source is not None:
                transceiver.sender.replaceTrack(relay.subscribe(source))
                transceiver.direction = "sendonly"
    await pc.setLocalDescription(await pc.createAnswer())
    return pc


async def handle(reader, writer, token):
    try:
        request = await read_request(reader)
        if request is None:
            return
        method, path, headers, body = request
        parts = [p for p in path.split("/") if p]
        if token and headers.get("authorization") != "Bearer " + token:
            writer.write(response(401, "Unauthorized", [("Content-Type", "application/problem+json")], b'{"code":"token_invalid"}'))
        elif method == "POST" and len(parts) >= 2 and parts[0] in ("whip", "whep"):
            pc = await answer(body.decode(), parts[0], parts[1])
            location = "/%s/%s/%s" % (parts[0], parts[1], secrets.token_hex(8))
            sessions[location] = pc
            links = [("Link", '<stun:127.0.0.1:3478>; rel="ice-server"'),
                     ("Link", '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="1:me"; credential="a\\"b"; credential-type="password"')]
            writer.write(response(201, "Created", [("Content-Type", "application/sdp"), ("Location", location), ("ETag", '"1"')] + links,
                                  pc.localDescription.sdp.encode()))
        elif method == "PATCH" and path in sessions:
            writer.write(response(204, "No Content"))
        elif method == "DELETE" and path in sessions:
            await sessions.pop(path).close()
            writer.write(response(200, "OK"))
        else:
            writer.write(response(404, "Not Found"))
        await writer.drain()
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    whip_common.loopback_only()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args.token), "127.0.0.1", args.port)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
