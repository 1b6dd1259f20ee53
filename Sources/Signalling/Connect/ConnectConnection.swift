import CCP
import ConnectCore
import Foundation
import Ledger
import Logging
import Metrics
import NIOCore

/// What a `/connect` transport writes: plaintext handshake frames (with their encoding) or, after
/// the Ack, encrypted units.
public enum ConnectOutput: Sendable {
    case plaintext([CCPFrame], ByteBuffer)
    case units(ByteBuffer)

    public var bytes: ByteBuffer {
        switch self {
        case .plaintext(_, let bytes), .units(let bytes): bytes
        }
    }
}

/// The downstream half of one `/connect` transport (WebSocket, HTTP/2 body, SSE, long-poll).
public protocol ConnectOutbound: Sendable {
    func write(_ output: ConnectOutput) async throws
    /// Ends the downstream; the transport closes the stream.
    func close() async
}

/// Drives one `/connect` stream: plaintext handshake, then encrypted units both ways, keepalives,
/// idle close and revocation. One event loop per connection; nothing here blocks another session.
struct ConnectConnection: Sendable {
    let service: ConnectService
    let transportName: String
    let remoteAddress: String

    func run<Inbound: AsyncSequence & Sendable>(inbound: Inbound, outbound: some ConnectOutbound, rateLimited: Bool) async
    where Inbound.Element == ByteBuffer {
        if rateLimited {
            let error = ConnectError(.rateLimited, "too many /connect attempts from this address")
            var handshake = service.makeHandshake(now: Date())
            recordFailure(error, deviceID: nil, pattern: nil)
            if case .fail(_, let frame) = handshake.authorizationFailed(error) {
                try? await outbound.write(.plaintext([frame], Self.encode([frame])))
            }
            await outbound.close()
            return
        }
        let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await chunk in inbound { continuation.yield(.inbound(chunk)) }
                } catch {}
                continuation.yield(.inboundEnded)
            }
            let interval = Duration.seconds(service.configuration.keepaliveInterval)
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval / 2) } catch { return }
                    continuation.yield(.tick)
                }
            }
            await self.process(events: events, continuation: continuation, outbound: outbound)
            continuation.finish()
            group.cancelAll()
        }
    }

    private func process(events: AsyncStream<ConnectionEvent>, continuation: AsyncStream<ConnectionEvent>.Continuation, outbound: some ConnectOutbound) async {
        var handshake = service.makeHandshake(now: Date())
        var decoder = CCPFrameDecoder()
        var buffer = ByteBuffer()
        var pending: HelloRequest?
        var authorized: AuthorizedDevice?
        let clock = ContinuousClock()
        var idle = IdleDeadline(interval: .seconds(service.configuration.keepaliveInterval), now: clock.now)
        var iterator = events.makeAsyncIterator()

        // Handshake phase: plaintext frames.
        var established: EstablishedHandshake?
        handshakeLoop: while established == nil, let event = await iterator.next() {
            switch event {
            case .inbound(var chunk):
                buffer.writeBuffer(&chunk)
                idle.activity(at: clock.now)
            case .inboundEnded, .close:
                await closeSession(authorized)
                if pending != nil || authorized != nil {
                    recordFailure(ConnectError(.noise, "client closed during the handshake"), deviceID: pending?.deviceID, pattern: pending?.pattern)
                }
                await outbound.close()
                return
            case .tick:
                if idle.isExpired(at: clock.now) {
                    await fail(ConnectError(.decode, "handshake timed out"), handshake: &handshake, request: pending, device: authorized, outbound: outbound)
                    return
                }
                continue handshakeLoop
            case .send:
                continue handshakeLoop
            }
            while established == nil {
                let frame: CCPFrame
                do {
                    guard case .frame(let decoded) = try decoder.decode(buffer: &buffer) else { break }
                    frame = decoded
                } catch {
                    await fail(ConnectError(.decode, error.code.rawValue), handshake: &handshake, request: pending, device: authorized, outbound: outbound)
                    return
                }
                var action = handshake.receive(frame)
                if case .authorize(let request) = action {
                    pending = request
                    do {
                        let device = try await service.authorizer.authorize(request, now: Date())
                        authorized = device
                        action = handshake.authorized(device)
                    } catch {
                        action = handshake.authorizationFailed(error)
                    }
                }
                switch action {
                case .authorize:
                    continue
                case .send(let frames):
                    guard await write(.plaintext(frames, Self.encode(frames)), to: outbound) else {
                        await closeSession(authorized)
                        return
                    }
                case .complete(let frames, let result):
                    guard await write(.plaintext(frames, Self.encode(frames)), to: outbound) else {
                        await closeSession(authorized)
                        return
                    }
                    established = result
                case .fail(let error, let errorFrame):
                    // Ledger first: a client that saw the Error frame finds the record.
                    recordFailure(error, deviceID: pending?.deviceID ?? Self.helloDeviceID(frame: frame), pattern: pending?.pattern)
                    _ = await write(.plaintext([errorFrame], Self.encode([errorFrame])), to: outbound)
                    await closeSession(authorized)
                    await outbound.close()
                    return
                }
            }
        }
        guard let established else {
            await outbound.close()
            return
        }
        service.ledger.record(
            scope: .handshake, result: "ok",
            fields: [
                "device_id": .string(established.device.deviceID), "user_id": .string(established.device.userID),
                "session": .string(established.device.sessionID), "pattern": .string(established.pattern.rawValue),
                "transport": .string(transportName), "remote": .string(remoteAddress),
                "registered": .bool(established.device.registered),
            ])
        Counter(label: "commucat_connect_handshakes_total", dimensions: [("result", "ok"), ("pattern", established.pattern.rawValue)]).increment()
        await runEstablished(established, buffer: buffer, iterator: &iterator, continuation: continuation, outbound: outbound, idle: idle)
    }

    private func runEstablished(
        _ established: EstablishedHandshake, buffer initial: ByteBuffer, iterator: inout AsyncStream<ConnectionEvent>.Iterator,
        continuation: AsyncStream<ConnectionEvent>.Continuation, outbound: some ConnectOutbound, idle initialIdle: IdleDeadline
    ) async {
        let session = ConnectSessionHandle(device: established.device, transport: transportName, events: continuation)
        service.registry.add(session)
        await service.delegate.sessionOpened(session)
        var transport = established.transport
        var units = CCPSecureUnits.Decoder()
        var decoder = CCPFrameDecoder()
        var cipherBuffer = initial
        var plainBuffer = ByteBuffer()
        let clock = ContinuousClock()
        var idle = initialIdle
        var outSequence: UInt32 = 0
        var lastTouch = clock.now
        var closing: ConnectError?? = nil

        func sendFrames(_ frames: [CCPFrame]) async -> Bool {
            var out = ByteBuffer()
            do {
                try CCPSecureUnits.seal(Self.encode(frames), transport: &transport, into: &out)
            } catch {
                return false
            }
            return await write(.units(out), to: outbound)
        }

        var pendingEvent: ConnectionEvent? = cipherBuffer.readableBytes > 0 ? .inbound(ByteBuffer()) : nil
        eventLoop: while closing == nil {
            let event: ConnectionEvent
            if let next = pendingEvent {
                event = next
                pendingEvent = nil
            } else {
                guard let next = await iterator.next() else { break }
                event = next
            }
            switch event {
            case .inbound(var chunk):
                cipherBuffer.writeBuffer(&chunk)
                idle.activity(at: clock.now)
                do {
                    while let plaintext = try units.open(buffer: &cipherBuffer, transport: &transport) {
                        var plain = plaintext
                        plainBuffer.writeBuffer(&plain)
                    }
                } catch {
                    closing = .some(ConnectError(.noise, error.code.rawValue))
                    continue eventLoop
                }
                while true {
                    let frame: CCPFrame
                    do {
                        guard case .frame(let decoded) = try decoder.decode(buffer: &plainBuffer) else { break }
                        frame = decoded
                    } catch {
                        closing = .some(ConnectError(.decode, error.code.rawValue))
                        continue eventLoop
                    }
                    if frame.type == .keepalive {
                        outSequence &+= 1
                        let reply = CCPFrame(type: .keepalive, channelID: frame.channelID, sequence: outSequence, json: Self.keepaliveReply(frame))
                        guard await sendFrames([reply]) else { break eventLoop }
                        await service.delegate.sessionKeepalive(session)
                        if clock.now - lastTouch > .seconds(service.configuration.keepaliveInterval) {
                            lastTouch = clock.now
                            try? await service.storage.touchSession(id: session.sessionID, now: Date())
                        }
                    } else {
                        await service.delegate.session(session, received: frame)
                    }
                }
            case .send(let frames):
                guard await sendFrames(frames) else { break eventLoop }
            case .tick:
                if idle.isExpired(at: clock.now) {
                    closing = .some(ConnectError(.idleTimeout, "no traffic for 3 keepalive intervals"))
                }
            case .close(let error):
                closing = .some(error)
            case .inboundEnded:
                closing = .some(nil)
            }
        }
        if case .some(.some(let error)) = closing {
            service.ledger.record(
                scope: .handshake, result: "closed",
                fields: ["device_id": .string(session.deviceID), "session": .string(session.sessionID), "code": .string(error.code.rawValue)])
            Counter(label: "commucat_connect_rejections_total", dimensions: [("code", error.code.rawValue)]).increment()
            _ = await sendFrames([HandshakeMessages.errorFrame(error, sequence: outSequence &+ 1)])
        }
        service.registry.remove(session)
        await service.delegate.sessionClosed(session)
        try? await service.storage.closeSession(id: session.sessionID, now: Date())
        await outbound.close()
    }

    private func fail(
        _ error: ConnectError, handshake: inout ConnectHandshake, request: HelloRequest?, device: AuthorizedDevice?, outbound: some ConnectOutbound
    ) async {
        recordFailure(error, deviceID: request?.deviceID, pattern: request?.pattern)
        if case .fail(_, let frame) = handshake.authorizationFailed(error) {
            _ = await write(.plaintext([frame], Self.encode([frame])), to: outbound)
        }
        await closeSession(device)
        await outbound.close()
    }

    private func closeSession(_ device: AuthorizedDevice?) async {
        guard let device else { return }
        try? await service.storage.closeSession(id: device.sessionID, now: Date())
    }

    private func write(_ output: ConnectOutput, to outbound: some ConnectOutbound) async -> Bool {
        do {
            try await outbound.write(output)
            return true
        } catch {
            return false
        }
    }

    func recordFailure(_ error: ConnectError, deviceID: String?, pattern: NoisePattern?) {
        var fields: [String: LedgerValue] = [
            "code": .string(error.code.rawValue), "detail": .string(error.detail), "transport": .string(transportName),
            "remote": .string(remoteAddress),
        ]
        if let deviceID { fields["device_id"] = .string(deviceID) }
        if let pattern { fields["pattern"] = .string(pattern.rawValue) }
        service.ledger.record(scope: .handshake, result: error.code.rawValue, fields: fields)
        Counter(label: "commucat_connect_rejections_total", dimensions: [("code", error.code.rawValue)]).increment()
        service.logger.info("handshake refused", metadata: ["code": "\(error.code.rawValue)", "detail": "\(error.detail)", "remote": "\(remoteAddress)"])
    }

    /// The `device_id` of a refused Hello, read leniently for the ledger.
    private static func helloDeviceID(frame: CCPFrame) -> String? {
        guard frame.type == .hello,
            let object = try? JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView)) as? [String: Any],
            let id = object["device_id"] as? String
        else { return nil }
        return String(id.prefix(255))
    }

    static func encode(_ frames: [CCPFrame]) -> ByteBuffer {
        var out = ByteBuffer()
        for frame in frames { frame.write(to: &out) }
        return out
    }

    /// `{"nonce": <same value>}` when the client sent one, else `{}` (SPEC §4.1).
    static func keepaliveReply(_ frame: CCPFrame) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView), options: [.fragmentsAllowed]) as? [String: Any],
            let nonce = object["nonce"], JSONSerialization.isValidJSONObject(["nonce": nonce]),
            let data = try? JSONSerialization.data(withJSONObject: ["nonce": nonce], options: [.fragmentsAllowed])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
