#!/usr/bin/env python3
"""Self-check of the interop harness, without any network.

1. The barcode reads back from raw planes for a spread of counters.
2. Frames drawn with barcode.make_frame go through aiortc's own encoder, RTP packetizer,
   depacketizer and decoder (VP8 and H.264) and every counter reads back.
3. The tone generator's RMS is what a sine of that amplitude should give.
4. The tone through aiortc's Opus encoder and decoder: reports the RMS a WHEP subscriber should
   see when the SFU forwards Opus untouched (aiortc's mono→stereo path lowers it to about 1600).

Prints one JSON line and exits 0 when every check passes, 1 otherwise.
"""

import fractions
import json
import math
import sys

import barcode


def check_planes() -> dict:
    counters = [0, 1, 2, 255, 256, 4095, 0x5A5A, 0xA5A5, 65534, 65535]
    wrong = [c for c in counters if barcode.read_luma(barcode.draw_luma(c, 336), 336) != c]
    # A corrupted plane must not read as a counter: flip one data block to its opposite colour.
    plane = bytearray(barcode.draw_luma(1234))
    x0, y0 = barcode.ORIGIN_X, barcode.ORIGIN_Y
    for y in range(y0, y0 + barcode.BLOCK_H):
        for x in range(x0, x0 + barcode.BLOCK_W):
            plane[y * barcode.WIDTH + x] = barcode.BLACK
    corrupted = barcode.read_luma(bytes(plane), barcode.WIDTH)
    return {"planes_ok": not wrong and corrupted is None, "planes_wrong": wrong, "corrupted_read": corrupted}


def check_codec(mime: str, frames: int = 45) -> dict:
    from aiortc.codecs import depayload, get_decoder, get_encoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    parameters = {"packetization-mode": "1", "level-asymmetry-allowed": "1", "profile-level-id": "42e01f"}
    codec = RTCRtpCodecParameters(
        mimeType=mime, clockRate=90000, payloadType=96, parameters=parameters if mime == "video/H264" else {}
    )
    encoder = get_encoder(codec)
    decoder = get_decoder(codec)
    read = []
    for counter in range(frames):
        frame = barcode.make_frame(counter)
        frame.pts = counter * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.encode(frame, force_keyframe=(counter == 0))
        data = b"".join(depayload(codec, payload) for payload in payloads)
        if not data:
            continue
        for decoded in decoder.decode(JitterFrame(data=data, timestamp=timestamp)):
            read.append(barcode.read_frame(decoded))
    good = [value for value in read if value is not None]
    ok = len(good) >= frames - 2 and good == sorted(good) and (not good or good[-1] == frames - 1)
    return {"mime": mime, "decoded": len(read), "read": len(good), "last": good[-1] if good else None, "ok": ok}


def check_tone() -> dict:
    data = barcode.tone_samples(0, 48000, amplitude=8000)
    rms = barcode.rms_s16(data)
    expected = 8000 / math.sqrt(2)
    return {"rms": round(rms, 1), "expected": round(expected, 1), "ok": abs(rms - expected) < 0.01 * expected}


def check_opus(frames: int = 100) -> dict:
    from av import AudioFrame
    from aiortc.codecs import depayload, get_decoder, get_encoder
    from aiortc.jitterbuffer import JitterFrame
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    codec = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=96)
    encoder, decoder = get_encoder(codec), get_decoder(codec)
    levels = []
    for index in range(frames):
        frame = AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(barcode.tone_samples(index * 960, 960))
        frame.pts = index * 960
        frame.sample_rate = 48000
        frame.time_base = fractions.Fraction(1, 48000)
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            for decoded in decoder.decode(JitterFrame(data=depayload(codec, payload), timestamp=timestamp)):
                levels.append(barcode.rms_s16(bytes(decoded.planes[0])))
    steady = levels[10:] or levels
    rms = sum(steady) / len(steady) if steady else 0.0
    return {"frames": len(levels), "rms": round(rms, 1), "ok": len(levels) >= frames - 2 and rms > 500}


def check_links() -> dict:
    import whip_common

    values = [
        '<stun:stun.example.net:3478>; rel="ice-server"',
        '<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="1800000600:alice"; '
        'credential="a\\"b,c"; credential-type="password", <https://example.net/x>; rel="next"',
    ]
    servers = whip_common.ice_servers_from_links(values)
    got = [(s.urls, s.username, s.credential) for s in servers]
    expected = [
        ("stun:stun.example.net:3478", None, None),
        ("turn:turn.example.net:3478?transport=udp", "1800000600:alice", 'a"b,c'),
    ]
    return {"servers": got, "ok": got == expected}


def main() -> int:
    summary = {"planes": check_planes(), "vp8": check_codec("video/VP8"), "tone": check_tone(), "opus": check_opus(), "links": check_links()}
    try:
        summary["h264"] = check_codec("video/H264")
    except Exception as error:  # libx264 missing from the av wheel is reported, not hidden
        summary["h264"] = {"ok": False, "error": repr(error)}
    ok = summary["planes"]["planes_ok"] and all(summary[k]["ok"] for k in ("vp8", "h264", "tone", "opus", "links"))
    summary["ok"] = ok
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
