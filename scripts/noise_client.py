#!/usr/bin/env python3
"""Independent CCP-1 client over WebSocket or HTTP/2 duplex `POST /connect` (PyPI `noiseprotocol`
0.3.1, `websockets`, `h2`).

Implements SPEC §4.1 frames, the §4.2 handshake in its revision 2 (docs/PROTOCOL.md §1.2: Hello →
Auth → [XK: Auth] → the client's encrypted confirmation with the device proof over the handshake
hash → the encrypted Ack) and §4.2 encrypted units, without any CommuCat code. Used by the Swift
interop tests; also handy by hand:

    noise_client.py --base http://127.0.0.1:8080 --pattern XK --handle alice --keepalives 3
    noise_client.py --base http://127.0.0.1:8080 --h2 https://127.0.0.1:8443 --pattern IK

With `--h2 URL` the stream is one HTTP/2 request over TLS (ALPN h2; the server's self-signed
certificate is not verified), its body and response carrying the same bytes as the WebSocket
messages (SPEC §4.3).

Prints one JSON object per line: {"event": "ack", ...}, {"event": "keepalive", "nonce": ...},
{"event": "error", "error": CODE, "detail": ...}. Exits 0 when every keepalive was echoed,
1 on a server Error or any failure, 2 on usage errors.
"""
import argparse
import asyncio
import json
import os
import ssl
import sys
import urllib.request
import uuid

import h2.config
import h2.connection
import h2.events
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PrivateFormat, PublicFormat, NoEncryption
from noise.connection import Keypair, NoiseConnection

FRAME_TYPES = {"hello": 0x01, "auth": 0x02, "ack": 0x06, "error": 0x0D, "keepalive": 0x15}


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(buf, pos):
    """Returns (value, new_pos) or None when incomplete."""
    value = 0
    for i in range(10):
        if pos + i >= len(buf):
            return None
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise ValueError("varint too long")


def encode_frame(ftype, channel, sequence, payload):
    body = bytes([ftype]) + varint(channel) + varint(sequence) + varint(len(payload)) + payload
    return varint(len(body)) + body


def decode_frames(buf):
    """Decodes complete frames from the front of buf (a bytearray, consumed in place)."""
    frames = []
    while True:
        head = read_varint(buf, 0)
        if head is None:
            return frames
        body_len, pos = head
        if len(buf) - pos < body_len:
            return frames
        body = bytes(buf[pos:pos + body_len])
        del buf[:pos + body_len]
        ftype = body[0]
        channel, p = read_varint(body, 1)
        sequence, p = read_varint(body, p)
        length, p = read_varint(body, p)
        payload = body[p:p + length]
        if len(payload) != length or p + length != len(body):
            raise ValueError("payload length mismatch")
        frames.append((ftype, channel, sequence, payload))


class WebSocketStream:
    """CCP-1 bytes as binary WebSocket messages."""

    def __init__(self, url):
        self.url = url

    async def __aenter__(self):
        self.ws = await websockets.connect(self.url, max_size=1 << 20)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def send(self, data):
        await self.ws.send(data)

    async def recv(self):
        return await self.ws.recv()


class H2DuplexStream:
    """CCP-1 bytes as the body of one HTTP/2 `POST /connect` and of its response (RFC 9113),
    both open at once."""

    def __init__(self, url):
        rest = url.split("://", 1)[1].rstrip("/")
        self.authority = rest
        self.host, _, port = rest.rpartition(":")
        self.port = int(port)

    async def __aenter__(self):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, ssl=context)
        if self.writer.get_extra_info("ssl_object").selected_alpn_protocol() != "h2":
            raise RuntimeError("the server did not select h2")
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(self.stream, [(":method", "POST"), (":path", "/connect"), (":scheme", "https"),
                                             (":authority", self.authority), ("content-type", "application/octet-stream")])
        await self._flush()
        self.queue = asyncio.Queue()
        self.status = None
        self.reading = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc):
        self.reading.cancel()
        self.writer.close()

    async def _flush(self):
        self.writer.write(self.conn.data_to_send())
        await self.writer.drain()

    async def _read(self):
        while True:
            data = await self.reader.read(65536)
            if not data:
                await self.queue.put(None)
                return
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    self.status = dict(event.headers).get(b":status")
                elif isinstance(event, h2.events.DataReceived):
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    await self.queue.put(event.data)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    await self.queue.put(None)
            await self._flush()

    async def send(self, data):
        self.conn.send_data(self.stream, data)
        await self._flush()

    async def recv(self):
        data = await self.queue.get()
        if data is None:
            raise ConnectionError(f"the /connect response ended (status {self.status})")
        return data


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


async def run(args):
    with urllib.request.urlopen(args.base + "/api/server-info", timeout=10) as response:
        info = json.load(response)
    domain = info["domain"]
    server_static = bytes.fromhex(args.server_static or info["noise_public"])
    prologue = info["noise_prologue"].encode()

    device_key = Ed25519PrivateKey.generate()
    device_public = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    static_private = X25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    device_id = args.device_id or "py-" + uuid.uuid4().hex

    noise = NoiseConnection.from_name(("Noise_%s_25519_ChaChaPoly_BLAKE2s" % args.pattern).encode())
    noise.set_as_initiator()
    noise.set_prologue(prologue)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, static_private)
    noise.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, server_static)
    noise.start_handshake()
    message1 = noise.write_message()
    client_static = noise.noise_protocol.keypairs["s"].public_bytes

    def lp(data):
        return len(data).to_bytes(4, "big") + data

    proof_input = b"commucat:device-proof:v1" + lp(domain.encode()) + lp(device_id.encode()) + client_static + message1
    hello = {
        "pattern": args.pattern,
        "supported_versions": [1],
        "device_id": device_id,
        "handshake": message1.hex(),
        "client_static": client_static.hex(),
        "device_public": device_public.hex(),
        "device_proof": device_key.sign(proof_input).hex(),
        "user": {"handle": args.handle, "display_name": "Python peer"},
        "handshake_revision": 2,
    }
    url = args.base.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/connect"
    transport = H2DuplexStream(args.h2) if args.h2 else WebSocketStream(url)
    sequence = 0

    def next_seq():
        nonlocal sequence
        sequence += 1
        return sequence

    def seal(frame):
        ciphertext = noise.encrypt(frame)
        return varint(len(ciphertext)) + ciphertext

    cipher_buf = b""
    plain = bytearray()

    async def next_frames():
        """Reads one message and returns the frames decrypted from its complete units."""
        nonlocal cipher_buf
        cipher_buf += await asyncio.wait_for(ws.recv(), timeout=10)
        while True:
            head = read_varint(cipher_buf, 0)
            if head is None:
                break
            length, pos = head
            if len(cipher_buf) - pos < length:
                break
            plain.extend(noise.decrypt(cipher_buf[pos:pos + length]))
            cipher_buf = cipher_buf[pos + length:]
        return decode_frames(plain)

    async with transport as ws:
        await ws.send(encode_frame(FRAME_TYPES["hello"], 0, next_seq(), json.dumps(hello).encode()))
        buf = bytearray()
        while not noise.handshake_finished:
            buf += await asyncio.wait_for(ws.recv(), timeout=10)
            for ftype, _, _, payload in decode_frames(buf):
                body = json.loads(payload)
                if ftype == FRAME_TYPES["error"]:
                    emit({"event": "error", "error": body.get("error"), "detail": body.get("detail")})
                    return 1
                if ftype == FRAME_TYPES["auth"]:
                    noise.read_message(bytes.fromhex(body["handshake"]))
                    if args.pattern == "XK":
                        message3 = noise.write_message()
                        await ws.send(encode_frame(FRAME_TYPES["auth"], 0, next_seq(), json.dumps({"handshake": message3.hex()}).encode()))
                    if not noise.handshake_finished:
                        raise RuntimeError("handshake not finished after Auth")
                    break
        # Revision 2: confirm with the device key over the handshake hash, encrypted; the Ack
        # (with the session) is the server's first encrypted frame.
        confirmation = b"commucat:device-proof:v2" + lp(domain.encode()) + lp(device_id.encode()) + noise.get_handshake_hash()
        confirm = {"device_proof": device_key.sign(confirmation).hex()}
        await ws.send(seal(encode_frame(FRAME_TYPES["auth"], 0, next_seq(), json.dumps(confirm).encode())))
        ack = None
        while ack is None:
            for ftype, _, _, payload in await next_frames():
                body = json.loads(payload)
                if ftype == FRAME_TYPES["error"]:
                    emit({"event": "error", "error": body.get("error"), "detail": body.get("detail")})
                    return 1
                if ftype != FRAME_TYPES["ack"]:
                    raise RuntimeError("expected the encrypted Ack, got frame type %d" % ftype)
                ack = body
                break
        emit({"event": "ack", "transport": "h2" if args.h2 else "websocket", "session": ack["session"], "user": ack["user"], "noise_key_version": ack["noise_key_version"],
              "keepalive_interval": ack["keepalive_interval"], "leftover": len(buf) + len(cipher_buf)})

        echoed = 0
        for index in range(args.keepalives):
            nonce = "py-%d-%s" % (index, uuid.uuid4().hex[:8])
            frame = encode_frame(FRAME_TYPES["keepalive"], 0, next_seq(), json.dumps({"nonce": nonce}).encode())
            await ws.send(seal(frame))
            got = False
            while not got:
                for ftype, _, _, payload in await next_frames():
                    body = json.loads(payload)
                    if ftype == FRAME_TYPES["keepalive"] and body.get("nonce") == nonce:
                        emit({"event": "keepalive", "nonce": nonce})
                        echoed += 1
                        got = True
                    elif ftype == FRAME_TYPES["error"]:
                        emit({"event": "error", "error": body.get("error"), "detail": body.get("detail")})
                        return 1
        return 0 if echoed == args.keepalives else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="server HTTP base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--pattern", choices=["XK", "IK"], default="XK")
    parser.add_argument("--handle", default="python")
    parser.add_argument("--device-id")
    parser.add_argument("--server-static", help="hex; defaults to server-info noise_public")
    parser.add_argument("--keepalives", type=int, default=3)
    parser.add_argument("--h2", metavar="HTTPS_URL", help="use HTTP/2 duplex POST /connect at this https base URL")
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(run(args)))
    except Exception as error:  # one line for the test log
        emit({"event": "failure", "detail": "%s: %s" % (type(error).__name__, error)})
        sys.exit(1)


if __name__ == "__main__":
    main()
