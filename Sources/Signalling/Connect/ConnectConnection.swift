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

    /// Runs the stream; `refusal` (a rate limit) answers with that Error at once.
    /// `handshakeEnded` runs once when the handshake phase ends (established or not).
    func run<Inbound: AsyncSequence & Sendable>(
        inbound: Inbound, outbound: some ConnectOutbound, refusal: ConnectError?, handshakeEnded: @escaping @Sendable () -> Void = {}
    ) async where Inbound.Element == ByteBuffer {
        if let error = refusal {
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
            let deadline = service.configuration.handshakeTimeout
            group.addTask {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                continuation.yield(.handshakeDeadline)
            }
            let interval = Duration.seconds(service.configuration.keepaliveInterval)
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval / 2) } catch { return }
                    continuation.yield(.tick)
                }
            }
            var iterator = events.makeAsyncIterator()
            let result = await self.performHandshake(iterator: &iterator, outbound: outbound)
            handshakeEnded()
            if let (established, buffer) = result {
                let idle = IdleDeadline(interval: .seconds(service.configuration.keepaliveInterval), now: ContinuousClock.now)
                await runEstablished(established, buffer: buffer, iterator: &iterator, continuation: continuation, outbound: outbound, idle: idle)
            }
            continuation.finish()
            group.cancelAll()
        }
    }

    /// The handshake phase; returns the established session and the bytes after it, or nil when the
    /// stream was refused or closed (then the outbound is closed already).
    private func performHandshake(iterator: inout AsyncStream<ConnectionEvent>.Iterator, outbound: some ConnectOutbound) async
        -> (EstablishedHandshake, ByteBuffer)?
    {
        var handshake = service.makeHandshake(now: Date())
        // Before the session exists a frame is at most a few KB (ConnectHandshake.frameLimits).
        var decoder = CCPFrameDecoder(limits: ConnectHandshake.frameLimits)
        var buffer = ByteBuffer()
        var pending: HelloRequest?

        // Handshake phase: plaintext frames, then the client's confirmation unit. Bounded by the
        // absolute `limits.handshake_timeout` (the deadline task in run), not by inbound activity.
        var established: EstablishedHandshake?
        handshakeLoop: while established == nil, let event = await iterator.next() {
            switch event {
            case .inbound(var chunk):
                buffer.writeBuffer(&chunk)
                guard buffer.readableBytes <= Self.maxHandshakeBuffer else {
                    await fail(ConnectError(.decode, "more than \(Self.maxHandshakeBuffer) bytes before the handshake completed"), &handshake, pending, outbound)
                    return nil
                }
            case .inboundEnded, .close:
                if pending != nil {
                    recordFailure(ConnectError(.noise, "client closed during the handshake"), deviceID: pending?.deviceID, pattern: pending?.pattern)
                }
                await outbound.close()
                return nil
            case .handshakeDeadline:
                await fail(
                    ConnectError(.handshakeTimeout, "the handshake did not complete within \(service.configuration.handshakeTimeout)"), &handshake,
                    pending, outbound)
                return nil
            case .tick, .send:
                continue handshakeLoop
            }
            while established == nil {
                var action: ConnectHandshake.Action
                var frame: CCPFrame?
                if handshake.expectsUnits {
                    guard let next = handshake.receiveUnits(&buffer) else { break }
                    action = next
                } else {
                    let decoded: CCPFrame
                    do {
                        guard case .frame(let next) = try decoder.decode(buffer: &buffer) else { break }
                        decoded = next
                    } catch {
                        await fail(ConnectError(.decode, error.code.rawValue), &handshake, pending, outbound)
                        return nil
                    }
                    frame = decoded
                    action = handshake.receive(decoded)
                }
                if case .authorize(let request) = action {
                    pending = request
                    do {
                        action = handshake.authorized(try await service.authorizer.authorize(request, now: Date()))
                    } catch {
                        action = handshake.authorizationFailed(error)
                    }
                }
                if case .openSession(let device) = action {
                    do {
                        action = handshake.sessionOpened(try await service.authorizer.openSession(for: device, now: Date()))
                    } catch {
                        action = handshake.authorizationFailed(error)
                    }
                }
                switch action {
                case .authorize, .openSession, .awaitConfirmation:
                    continue
                case .send(let frames):
                    guard await write(.plaintext(frames, Self.encode(frames)), to: outbound) else {
                        await outbound.close()
                        return nil
                    }
                case .complete(let units, let result):
                    guard await write(.units(units), to: outbound) else {
                        await closeSession(result.device)
                        await outbound.close()
                        return nil
                    }
                    established = result
                case .fail(let error, let errorFrame):
                    // Ledger first: a client that saw the Error frame finds the record.
                    recordFailure(error, deviceID: pending?.deviceID ?? frame.flatMap(Self.helloDeviceID(frame:)), pattern: pending?.pattern)
                    _ = await write(.plaintext([errorFrame], Self.encode([errorFrame])), to: outbound)
                    await outbound.close()
                    return nil
                case .failSealed(let error, let units):
                    recordFailure(error, deviceID: pending?.deviceID, pattern: pending?.pattern)
                    _ = await write(.units(units), to: outbound)
                    await outbound.close()
                    return nil
                }
            }
        }
        guard let established else {
            await outbound.close()
            return nil
        }
        service.ledger.record(
            scope: .handshake, result: "ok",
            fields: [
                "device_id": .string(established.device.deviceID), "user_id": .string(established.device.userID),
                "session_hash": .string(SessionToken.ledgerHash(established.device.sessionID)), "pattern": .string(established.pattern.rawValue),
                "transport": .string(transportName), "remote": .string(remoteAddress),
                "registered": .bool(established.device.registered),
            ])
        Counter(label: "commucat_connect_handshakes_total", dimensions: [("result", "ok"), ("pattern", established.pattern.rawValue)]).increment()
        return (established, buffer)
    }

    /// Bytes a client may have sent before its handshake completes (a Hello, message 3 and the
    /// confirmation unit take a few KB).
    static let maxHandshakeBuffer = 64 * 1024

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
        var plainBuffer = established.pendingPlaintext
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

        var pendingEvent: ConnectionEvent? = cipherBuffer.readableBytes > 0 || plainBuffer.readableBytes > 0 ? .inbound(ByteBuffer()) : nil
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
            case .handshakeDeadline:
                continue eventLoop
            }
        }
        if case .some(.some(let error)) = closing {
            service.ledger.record(
                scope: .handshake, result: "closed",
                fields: [
                    "device_id": .string(session.deviceID), "session_hash": .string(SessionToken.ledgerHash(session.sessionID)),
                    "code": .string(error.code.rawValue),
                ])
            Counter(label: "commucat_connect_rejections_total", dimensions: [("code", error.code.rawValue)]).increment()
            _ = await sendFrames([HandshakeMessages.errorFrame(error, sequence: outSequence &+ 1)])
        }
        service.registry.remove(session)
        await service.delegate.sessionClosed(session)
        try? await service.storage.closeSession(id: session.sessionID, now: Date())
        await outbound.close()
    }

    private func fail(_ error: ConnectError, _ handshake: inout ConnectHandshake, _ request: HelloRequest?, _ outbound: some ConnectOutbound) async {
        recordFailure(error, deviceID: request?.deviceID, pattern: request?.pattern)
        switch handshake.authorizationFailed(error) {
        case .fail(_, let frame): _ = await write(.plaintext([frame], Self.encode([frame])), to: outbound)
        case .failSealed(_, let units): _ = await write(.units(units), to: outbound)
        default: break
        }
        await outbound.close()
    }

    private func closeSession(_ device: AuthorizedDevice?) async {
        guard let device, !device.sessionID.isEmpty else { return }
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

    static func encode(_ frames: [CCPFrame]) -> ByteBuffer { ConnectHandshake.encode(frames) }

    /// `{"nonce": <same value>}` when the client sent one, else `{}` (SPEC §4.1).
    static func keepaliveReply(_ frame: CCPFrame) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView), options: [.fragmentsAllowed]) as? [String: Any],
            let nonce = object["nonce"], JSONSerialization.isValidJSONObject(["nonce": nonce]),
            let data = try? JSONSerialization.data(withJSONObject: ["nonce": nonce], options: [.fragmentsAllowed])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
