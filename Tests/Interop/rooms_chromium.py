#!/usr/bin/env python3
"""Multi-party rooms in a real browser: headless Chromium pages join one room through the demo
page at `/` (the `/rtc` room protocol), and we check what a person would see.

Runs itself inside a private network namespace that has only `lo` (`unshare --net`), with the
CommuCat server and Chromium both inside it, so nothing can leave the machine. Steps, each bounded:

1. three pages (alice, bob, carol) open `/?room=R&name=N&autojoin=1`;
2. each page shows two remote tiles whose video is playing (`framesDecoded` rising in getStats);
3. each page publishes two simulcast encodings, which the SFU receives (its transport-wide CC
   feedback lets the browsers' bandwidth estimate open both); alice picks "low" then "high" for
   bob's tile and the decoded picture size follows;
4. a screenshot of alice's page is saved (`--screenshot`);
5. carol presses Leave; alice and bob drop her tile;
6. `/rtc` with a garbage token, with a token for another room, and a malformed message on a
   joined socket each get an `error` message, and alice and bob keep decoding;
7. two pages loaded over HTTPS (`wss://…/rtc` on the TLS listener) and an aiortc client share a
   room.

Prints one JSON line with the observations and exits 0 when every check passed.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count):
    """`count` different free TCP ports: every socket stays bound until all are picked."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in time")


class CDP:
    """A minimal DevTools protocol client over one browser-level websocket (flattened sessions)."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.pending = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id"), None)
            if future and not future.done():
                future.set_result(message)

    async def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        request = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.ws.send(json.dumps(request))
        message = await asyncio.wait_for(future, timeout)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result", {})

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session)
        return result.get("result", {}).get("value")


TILES_JS = """JSON.stringify([...document.querySelectorAll('.tile.remote')].map(t => ({
  participant: t.dataset.participant, label: t.querySelector('.label').textContent,
  frames: Number(t.dataset.framesDecoded || 0)})))"""


PAGE_STATE_JS = """JSON.stringify({error: commucat.error, participant: commucat.participantId,
  pub: commucat.pub && [commucat.pub.connectionState, commucat.pub.iceConnectionState, commucat.pub.signalingState],
  sub: commucat.sub && [commucat.sub.connectionState, commucat.sub.iceConnectionState, commucat.sub.signalingState],
  status: document.getElementById('status').textContent})"""


TONE_JS = """(async () => {
  const context = new AudioContext();
  const oscillator = context.createOscillator();
  const gain = context.createGain();
  gain.gain.value = 0.5;
  const destination = context.createMediaStreamDestination();
  oscillator.connect(gain); gain.connect(destination); oscillator.start();
  const sender = commucat.pub.getSenders().find((s) => s.track && s.track.kind === "audio");
  await sender.replaceTrack(destination.stream.getAudioTracks()[0]);
  return true;
})()"""


async def tiles(cdp, session):
    value = await cdp.evaluate(session, TILES_JS)
    return json.loads(value) if value else []


async def wait_until(predicate, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return True, last
        await asyncio.sleep(interval)
    return False, last


async def rtc_first_message(base_ws, query, send_text=None):
    async with websockets.connect(f"{base_ws}/rtc?{query}", open_timeout=10) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if send_text is None:
            return first, None
        await ws.send(send_text)
        # The server may send other messages first (a subscriber offer): read up to 20 of them.
        for _ in range(20):
            second = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if second.get("type") == "error":
                return first, second
        return first, None


def expired_token(secrets_path, room):
    """A correctly signed HS256 room token (SPEC §3.4) that expired a minute ago."""
    with open(secrets_path) as file:
        secrets = json.load(file)

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"iss": secrets["api_key"], "sub": "late", "room": room, "publish": True, "subscribe": True,
                             "nbf": now - 3600, "exp": now - 60}).encode())
    signature = hmac.new(secrets["api_secret"].encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


def dev_token(base, room, name):
    request = urllib.request.Request(f"{base}/api/dev/token", data=json.dumps({"room": room, "name": name}).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["token"]


async def _width_is(read, width):
    value = json.loads(await read() or "null")
    return value if value and value[0] == width else None


async def run(args, base, secure_base, port_debug):
    room = "demo"
    names = ["alice", "bob", "carol"]
    observations = {"checks": {}}
    checks = observations["checks"]
    version = json.loads(wait_http(f"http://127.0.0.1:{port_debug}/json/version", time.monotonic() + 60))
    async with websockets.connect(version["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024) as ws:
        cdp = CDP(ws)
        sessions = []
        for name in names:
            target = await cdp.call("Target.createTarget", {"url": f"{base}/?room={room}&name={name}&autojoin=1"})
            attached = await cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            sessions.append(attached["sessionId"])
            await asyncio.sleep(1.0)

        async def all_playing():
            views = [await tiles(cdp, s) for s in sessions]
            observations["tiles"] = views
            return all(len(v) == 2 and all(t["frames"] > 0 for t in v) for v in views)

        ok, _ = await wait_until(all_playing, args.timeout)
        checks["three_pages_each_show_two_playing_remote_videos"] = ok
        observations["pages"] = [json.loads(await cdp.evaluate(s, PAGE_STATE_JS) or "null") for s in sessions]
        # Playing means rising: read again a few seconds later.
        before = [await tiles(cdp, s) for s in sessions]
        await asyncio.sleep(4)
        after = [await tiles(cdp, s) for s in sessions]
        rising = True
        for b, a in zip(before, after):
            frames_before = {t["participant"]: t["frames"] for t in b}
            for t in a:
                if t["frames"] <= frames_before.get(t["participant"], 0):
                    rising = False
        checks["frames_decoded_rising"] = ok and rising
        observations["frames_after"] = after
        labels = sorted(t["label"] for t in after[0])
        checks["names_shown"] = labels == ["bob", "carol"]

        # Simulcast: every video track arrives as two active encodings of different sizes.
        async def layers_flowing():
            with urllib.request.urlopen(f"{base}/api/rooms/{room}", timeout=10) as response:
                details = json.loads(response.read())
            videos = [t for p in details["participants"] for t in p["tracks"] if t["kind"] == "video"]
            observations["simulcast_layers"] = [t.get("layers") for t in videos]
            return len(videos) == 3 and all(
                len(t.get("layers") or []) == 2 and all(layer["active"] for layer in t["layers"])
                and sorted(layer.get("width") or 0 for layer in t["layers"]) == [320, 640] for t in videos)

        ok, _ = await wait_until(layers_flowing, 30, interval=1)
        checks["simulcast_two_layers_received"] = ok

        # set_quality through the demo page's quality choice on alice's tile of bob.
        def bob_tile_js(body):
            return f"""(() => {{ const t = [...document.querySelectorAll('.tile.remote')].find(t => t.querySelector('.label').textContent.startsWith('bob'));
              if (!t) return null; {body} }})()"""

        async def choose(level):
            return await cdp.evaluate(sessions[0], bob_tile_js(
                f"const s = t.querySelector('select.quality'); if (!s || s.hidden) return 'no choice'; s.value = '{level}'; s.dispatchEvent(new Event('change')); return 'ok';"))

        async def bob_width():
            return await cdp.evaluate(sessions[0], bob_tile_js("return JSON.stringify([Number(t.dataset.frameWidth || 0), Number(t.dataset.framesDecoded || 0)]);"))

        quality = {"before": json.loads(await bob_width() or "null"), "choose_low": await choose("low")}
        ok_low, low = await wait_until(lambda: _width_is(bob_width, 320), 20)
        quality["low"] = low
        await asyncio.sleep(2)
        quality["low_later"] = json.loads(await bob_width() or "null")
        quality["choose_high"] = await choose("high")
        ok_high, high = await wait_until(lambda: _width_is(bob_width, 640), 20)
        quality["high"] = high
        quality["replies"] = json.loads(await cdp.evaluate(sessions[0], "JSON.stringify(commucat.qualitySet)") or "[]")
        observations["set_quality"] = quality
        checks["set_quality_low_then_high"] = bool(ok_low and ok_high and quality["low_later"]
                                                   and quality["low_later"][1] > low[1]
                                                   and [r.get("quality") for r in quality["replies"]] == ["low", "high"])

        # Active speakers: Chromium's fake microphone only beeps 20 ms a second (silence to the
        # detector), so alice talks: her audio track is replaced by a steady tone. Every page must
        # then be told that alice, and only alice, speaks (RFC 6464 levels, smoothed, hysteresis).
        alice = observations["pages"][0]["participant"]
        await cdp.evaluate(sessions[0], TONE_JS)

        async def speakers_seen():
            states = [json.loads(await cdp.evaluate(s, "JSON.stringify({n: commucat.speakerEvents || 0, now: commucat.speakers || []})")) for s in sessions]
            observations["speakers"] = {"alice": alice, "pages": states}
            return all(st["now"] == [alice] for st in states)

        ok, _ = await wait_until(speakers_seen, 20)
        checks["active_speakers_reported"] = ok

        # The admin view (loopback, no admin token configured): participants, tracks, bitrates.
        with urllib.request.urlopen(f"{base}/api/rooms/{room}", timeout=10) as response:
            details = json.loads(response.read())
        observations["room_details"] = details
        checks["admin_room_details"] = sorted(p["name"] for p in details["participants"]) == names and all(
            any(t["kind"] == "video" and t["bitrate_bps"] > 0 for t in p["tracks"]) for p in details["participants"])

        # ICE restart: alice restarts both of her connections; both get new ICE credentials from the
        # SFU, her connections reconnect, and every page keeps decoding every other one.
        UFRAGS_JS = """JSON.stringify([commucat.pub, commucat.sub].map(pc => {
          const m = (pc.remoteDescription ? pc.remoteDescription.sdp : '').match(/a=ice-ufrag:(\\S+)/);
          return [m ? m[1] : null, pc.iceConnectionState]; }))"""
        before_ufrags = json.loads(await cdp.evaluate(sessions[0], UFRAGS_JS))
        before_frames = [await tiles(cdp, s) for s in sessions]
        await cdp.evaluate(sessions[0], "commucatRestartIce(); true")

        async def restarted():
            now = json.loads(await cdp.evaluate(sessions[0], UFRAGS_JS))
            return all(new[0] and new[0] != old[0] and new[1] in ("connected", "completed") for new, old in zip(now, before_ufrags)) and now

        ok, after_ufrags = await wait_until(restarted, 20)
        await asyncio.sleep(2)
        after_frames = [await tiles(cdp, s) for s in sessions]
        observations["ice_restart"] = {"before": before_ufrags, "after": after_ufrags}
        checks["ice_restart_keeps_media"] = bool(ok) and all(
            len(a) == 2 and all(x["frames"] > y["frames"] for x, y in zip(sorted(a, key=lambda t: t["participant"]), sorted(b, key=lambda t: t["participant"])))
            for a, b in zip(after_frames, before_frames))

        # Bob mutes: the others see it on his tile.
        await cdp.evaluate(sessions[1], "document.getElementById('mute').click(); true")

        async def bob_muted():
            views = [await tiles(cdp, s) for s in (sessions[0], sessions[2])]
            return all(any(t["label"].startswith("bob") and "muted" in t["label"] for t in v) for v in views)

        ok, _ = await wait_until(bob_muted, 15)
        checks["mute_shown_to_others"] = ok

        await cdp.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 720, "deviceScaleFactor": 1, "mobile": False}, sessions[0])
        await asyncio.sleep(1.5)
        shot = await cdp.call("Page.captureScreenshot", {"format": "png"}, sessions[0])
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        with open(args.screenshot, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        observations["screenshot"] = args.screenshot

        # Bad input: refused with a clear error, and nobody else notices.
        base_ws = base.replace("http://", "ws://")
        first, _ = await rtc_first_message(base_ws, f"room={room}&access_token=garbage")
        checks["garbage_token_refused"] = first.get("type") == "error" and first.get("code") == "token_invalid"
        first, _ = await rtc_first_message(base_ws, f"access_token={expired_token(args.secrets, room)}")
        checks["expired_token_refused"] = first.get("type") == "error" and first.get("code") == "token_expired"
        other = dev_token(base, "another-room", "mallory")
        first, _ = await rtc_first_message(base_ws, f"room={room}&access_token={other}")
        checks["other_room_token_refused"] = first.get("type") == "error" and first.get("code") == "token_room"
        token = dev_token(base, room, "prober")
        first, second = await rtc_first_message(base_ws, f"access_token={token}", send_text="{not json")
        checks["malformed_message_gets_error"] = first.get("type") == "joined" and second is not None \
            and second.get("code") == "bad_message"
        first, bad_quality = await rtc_first_message(base_ws, f"access_token={dev_token(base, room, 'prober2')}",
                                                     send_text='{"type":"set_quality","track_id":"nope","quality":"ultra"}')
        first, unknown_track = await rtc_first_message(base_ws, f"access_token={dev_token(base, room, 'prober3')}",
                                                       send_text='{"type":"set_quality","track_id":"nope","quality":"low"}')
        checks["bad_set_quality_gets_error"] = (bad_quality or {}).get("code") == "bad_message" \
            and (unknown_track or {}).get("code") == "unknown_track"
        observations["errors"] = {"malformed": second, "set_quality": [bad_quality, unknown_track]}

        # Alice's socket drops: her media keeps flowing, the page resumes within the grace period
        # and nobody sees her leave.
        before = [await tiles(cdp, s) for s in sessions[1:]]
        await cdp.evaluate(sessions[0], "commucat.ws.close(); true")

        async def alice_resumed():
            value = await cdp.evaluate(sessions[0], "String(commucat.resumedCount || 0)")
            return value not in (None, "0")

        ok, _ = await wait_until(alice_resumed, 20)
        await asyncio.sleep(2)
        after = [await tiles(cdp, s) for s in sessions[1:]]

        def alice_frames(view):
            return next((t["frames"] for t in view if t["label"].startswith("alice")), -1)

        checks["socket_drop_resumes_without_leaving"] = ok and all(
            alice_frames(a) > alice_frames(b) >= 0 for a, b in zip(after, before))

        # Carol leaves: the others drop her tile, and keep playing.
        await cdp.evaluate(sessions[2], "document.getElementById('leave').click(); true")

        async def carol_gone():
            views = [await tiles(cdp, s) for s in sessions[:2]]
            return all(len(v) == 1 and "carol" not in v[0]["label"] for v in views)

        ok, _ = await wait_until(carol_gone, 30)
        checks["leave_drops_tile"] = ok
        before = [await tiles(cdp, s) for s in sessions[:2]]
        await asyncio.sleep(3)
        after = [await tiles(cdp, s) for s in sessions[:2]]
        checks["others_unaffected"] = all(a and b and a[0]["frames"] > b[0]["frames"] for a, b in zip(after, before))

        # A participant whose socket drops and who never comes back is removed after the 20 s
        # grace: "ghost" joins with a raw socket and vanishes; the mixed-room step runs meanwhile.
        token = dev_token(base, room, "ghost")
        async with websockets.connect(f"{base_ws}/rtc?access_token={token}", open_timeout=10) as ghost_ws:
            ghost = json.loads(await asyncio.wait_for(ghost_ws.recv(), 10))["participant_id"]
        ghost_dropped_at = time.monotonic()

        def room_members():
            with urllib.request.urlopen(f"{base}/api/rooms/{room}", timeout=10) as response:
                return [p["participant_id"] for p in json.loads(response.read())["participants"]]

        ghost_kept = ghost in room_members()

        # An aiortc participant and two Chromium pages in one room see each other.
        for target in (await cdp.call("Target.getTargets"))["targetInfos"]:
            if target["type"] == "page":
                await cdp.call("Target.closeTarget", {"targetId": target["targetId"]})
        mixed = []
        for name in ("dave", "erin"):
            # Over HTTPS: the room socket is wss:// on the TLS listener.
            target = await cdp.call("Target.createTarget", {"url": f"{secure_base}/?room=mixed&name={name}&autojoin=1"})
            attached = await cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            mixed.append(attached["sessionId"])
        await asyncio.sleep(3)
        here = os.path.dirname(os.path.abspath(__file__))
        mixed_started = time.monotonic()
        client = await asyncio.create_subprocess_exec(
            sys.executable, os.path.join(here, "room_aiortc.py"), base, "mixed", "frank", "--seconds", "25",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

        async def mixed_playing():
            views = [await tiles(cdp, s) for s in mixed]
            observations["mixed_tiles"] = views
            return all(len(v) == 2 and all(t["frames"] > 0 for t in v) and any(t["label"].startswith("frank") for t in v)
                       for v in views)

        ok, _ = await wait_until(mixed_playing, 25)
        checks["chromium_pages_decode_aiortc"] = ok
        protocols = [await cdp.evaluate(s, "location.protocol + ' ' + (commucat.ws ? commucat.ws.url.split(':')[0] : '')") for s in mixed]
        observations["mixed_protocols"] = protocols
        checks["https_pages_use_wss"] = ok and protocols == ["https: wss", "https: wss"]
        # What the SFU sends each participant of the mixed room (consumer counters), while frank is in it.
        await asyncio.sleep(max(0.0, 12 - (time.monotonic() - mixed_started)))
        with urllib.request.urlopen(f"{base}/api/rooms/mixed", timeout=10) as response:
            observations["mixed_room"] = json.loads(response.read())
        stdout, stderr = await asyncio.wait_for(client.communicate(), 90)
        lines = stdout.decode().strip().splitlines()
        report = json.loads(lines[-1]) if lines else {"ok": False, "stderr": stderr.decode()[-2000:]}
        observations["aiortc"] = report
        observations["aiortc_stderr"] = "\n".join(line for line in stderr.decode().splitlines() if "failed to decode" not in line)[-4000:]
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            observations["metrics"] = [line for line in response.read().decode().splitlines()
                                       if line.startswith("commucat_sfu_") and not line.endswith(" 0")
                                       and "_bucket" not in line]
        checks["aiortc_decodes_chromium_pages"] = bool(report.get("ok")) and sorted(report.get("decoded", {})) == ["dave", "erin"]

        async def ghost_gone():
            return ghost not in room_members()

        ok, _ = await wait_until(ghost_gone, 40)
        observations["ghost_removed_after_s"] = round(time.monotonic() - ghost_dropped_at, 1)
        checks["dropped_participant_kept_then_removed"] = ghost_kept and ok and observations["ghost_removed_after_s"] >= 15
        cdp.reader.cancel()
    return observations


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--timeout", type=float, default=90)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.screenshot = os.path.abspath(args.screenshot)

    if os.environ.get("COMMUCAT_IN_NETNS") != "1":
        # Re-run inside a private network namespace with only loopback.
        env = dict(os.environ, COMMUCAT_IN_NETNS="1")
        command = ["unshare", "--net", "--", sys.executable] + sys.argv
        sys.exit(subprocess.run(command, env=env, timeout=args.timeout + 180).returncode)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    work = tempfile.mkdtemp(prefix="commucat-rooms-")
    (http_port, https_port, debug_port), media_port = free_ports(3), free_udp_port()
    args.secrets = f"{work}/var/secrets.json"
    env = dict(os.environ,
               COMMUCAT_SERVER_DATA_DIR=f"{work}/var", COMMUCAT_HTTP_LISTEN=f"127.0.0.1:{http_port}",
               COMMUCAT_HTTPS_LISTEN=f"127.0.0.1:{https_port}", COMMUCAT_MEDIA_UDP_LISTEN=f"127.0.0.1:{media_port}",
               COMMUCAT_LOG_LEVEL="warning")
    env.pop("COMMUCAT_ADMIN_TOKEN", None)
    server_log = open(f"{work}/server.log", "w")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=server_log, stderr=subprocess.STDOUT, cwd=work)
    chromium = None
    result = {"ok": False}
    try:
        base = f"http://127.0.0.1:{http_port}"
        secure_base = f"https://127.0.0.1:{https_port}"
        wait_http(f"{base}/healthz", time.monotonic() + 60)
        chromium = subprocess.Popen(
            [args.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
             "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
             "--allow-loopback-in-peer-connection", "--ignore-certificate-errors",
             f"--remote-debugging-port={debug_port}", f"--user-data-dir={work}/chromium", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open(f"{work}/chromium.log", "w"))
        observations = asyncio.run(asyncio.wait_for(run(args, base, secure_base, debug_port), args.timeout + 120))
        result = {"ok": all(observations["checks"].values()), **observations}
    except Exception as error:  # noqa: BLE001 - reported in the JSON line
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    finally:
        for process in (chromium, server):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        server_log.close()
        if not result.get("ok"):
            with open(f"{work}/server.log") as log:
                result["server_log_tail"] = log.read()[-3000:]
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    sys.exit(0 if result.get("ok") else 1)


if __name__ == "__main__":
    main()
