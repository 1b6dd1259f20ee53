#!/usr/bin/env python3
"""Independent Noise peer for the CCP interop tests (PyPI `noiseprotocol` 0.3.1).

Speaks over stdin/stdout in units of `u32be(length) || bytes`.

Handshake: on each of its turns the peer writes a message whose payload is
`py-hs-<index>`; each message it reads must carry the payload `swift-hs-<index>`
(index counts all handshake messages from 0). After the handshake the peer first
sends one transport message `hh:<hex handshake hash>`, then echoes: every message
it receives is answered with `echo:<plaintext>`. The plaintext `rekey` is answered
with `rekeyed` and then both of the peer's cipher states are rekeyed (Noise §11.3).
It exits 0 at end of input, non-zero with a message on stderr on any failure.

Usage: noise_peer.py --pattern XK|IK --role initiator|responder
                     --static-private HEX [--remote-static HEX] [--prologue HEX]
"""
import argparse
import struct
import sys

from noise.connection import Keypair, NoiseConnection


def read_unit(stream):
    header = stream.read(4)
    if len(header) == 0:
        return None
    if len(header) != 4:
        raise EOFError("truncated length prefix")
    (length,) = struct.unpack(">I", header)
    if length > 65535:
        raise ValueError("unit of %d bytes exceeds 65535" % length)
    body = stream.read(length)
    if len(body) != length:
        raise EOFError("truncated unit")
    return body


def write_unit(stream, data):
    stream.write(struct.pack(">I", len(data)) + bytes(data))
    stream.flush()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pattern", choices=["XK", "IK"], required=True)
    parser.add_argument("--role", choices=["initiator", "responder"], required=True)
    parser.add_argument("--static-private", required=True)
    parser.add_argument("--remote-static")
    parser.add_argument("--prologue", default="")
    args = parser.parse_args()

    name = "Noise_%s_25519_ChaChaPoly_BLAKE2s" % args.pattern
    conn = NoiseConnection.from_name(name.encode())
    initiator = args.role == "initiator"
    if initiator:
        conn.set_as_initiator()
    else:
        conn.set_as_responder()
    conn.set_prologue(bytes.fromhex(args.prologue))
    conn.set_keypair_from_private_bytes(Keypair.STATIC, bytes.fromhex(args.static_private))
    if args.remote_static:
        conn.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, bytes.fromhex(args.remote_static))
    conn.start_handshake()

    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    index = 0
    while not conn.handshake_finished:
        our_turn = (index % 2 == 0) == initiator
        if our_turn:
            write_unit(stdout, conn.write_message(b"py-hs-%d" % index))
        else:
            unit = read_unit(stdin)
            if unit is None:
                raise EOFError("input ended during the handshake")
            payload = bytes(conn.read_message(unit))
            expected = b"swift-hs-%d" % index
            if payload != expected:
                raise ValueError("handshake payload %r, expected %r" % (payload, expected))
        index += 1

    write_unit(stdout, conn.encrypt(b"hh:" + conn.get_handshake_hash().hex().encode()))
    while True:
        unit = read_unit(stdin)
        if unit is None:
            return 0
        plaintext = bytes(conn.decrypt(unit))
        if plaintext == b"rekey":
            write_unit(stdout, conn.encrypt(b"rekeyed"))
            conn.rekey_inbound_cipher()
            conn.rekey_outbound_cipher()
        else:
            write_unit(stdout, conn.encrypt(b"echo:" + plaintext))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # report every failure to the Swift test, then fail
        sys.stderr.write("noise_peer: %s: %s\n" % (type(error).__name__, error))
        sys.exit(2)
