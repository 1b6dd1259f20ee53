import HTTPTypes
import HummingbirdWebSocket
import Logging

import enum Simulcast.LayerPreference

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The room WebSocket `GET /rtc?access_token=JWT[&room=R][&name=N]` (or `Authorization: Bearer`),
/// SPEC §3.3. The upgrade is always accepted so that a browser can read why it was refused: a bad
/// token, a full room or a malformed message gets an `error` message (`code`, `message`); refusals
/// before joining close the socket, later ones leave the participant in the room untouched.
public struct RoomRoutes: Sendable {
    public typealias Handler = @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async -> Void

    public let service: RoomService
    public let tokens: AccessTokens
    public let allowAnonymous: Bool
    public var maxMessageBytes: Int
    /// `rooms.send_queue_messages`: messages queued for one client before it is closed as too slow.
    public var sendQueueMessages: Int
    private let logger: Logger

    public init(
        service: RoomService, tokens: AccessTokens, allowAnonymous: Bool, maxMessageBytes: Int = 256 * 1024,
        sendQueueMessages: Int = 512, logger: Logger = Logger(label: "commucat.rooms")
    ) {
        self.service = service
        self.tokens = tokens
        self.allowAnonymous = allowAnonymous
        self.maxMessageBytes = maxMessageBytes
        self.sendQueueMessages = sendQueueMessages
        self.logger = logger
    }

    /// How a client's session ended.
    private enum Ending: Sendable {
        case left, socketClosed, writeFailed, tooSlow
    }

    /// The session handler for an upgrade request on `/rtc`; `nil` for any other path.
    public func webSocketHandler(for request: HTTPRequest, isLoopback: Bool) -> Handler? {
        let target = request.path ?? ""
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/rtc" else { return nil }
        let query = Self.queryItems(target)
        let authorization = request.headerFields[.authorization] ?? query["access_token"].map { "Bearer \($0)" }
        return { inbound, outbound in
            await serve(inbound: inbound, outbound: outbound, query: query, authorization: authorization, isLoopback: isLoopback)
        }
    }

    private func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, query: [String: String], authorization: String?,
        isLoopback: Bool
    ) async {
        // Admission: the token names the room (or `room=` must match it).
        let room = query["room"] ?? (authorization.flatMap(Self.tokenRoom) ?? "")
        guard RoomNames.isValid(room) else {
            await refuse(outbound, RoomError("bad_room", "room names are 1-128 characters of A-Z a-z 0-9 - _ ."))
            return
        }
        let principal: AccessTokens.Principal
        do {
            principal = try await tokens.authorize(
                authorization: authorization, room: room, need: .subscribe, allowAnonymous: allowAnonymous,
                isLoopback: isLoopback, now: Date())
        } catch {
            await refuse(outbound, RoomError(error.code.description, error.detail))
            return
        }
        let canPublish = principal.claims?.publish ?? principal.isAnonymous
        let name = Self.displayName(claims: principal.claims, query: query["name"], identity: principal.identity)

        let queue = RoomSendQueue(limit: sendQueueMessages)
        let send: @Sendable (RoomServerMessage) -> Void = { message in queue.send(message.json) }
        let participant: String
        let connection: Int
        if let resumeID = query["participant_id"] {
            // Reconnect within the grace period (docs/ROOMS.md): same participant, same media.
            switch await service.resume(room: room, participant: resumeID, resumeToken: query["resume"] ?? "", send: send) {
            case .success(let number): (participant, connection) = (resumeID, number)
            case .failure(let error):
                await refuse(outbound, error)
                return
            }
        } else {
            let joined = await service.join(
                room: room, name: name, identity: principal.identity, canPublish: canPublish, send: send)
            guard case .success(let id) = joined else {
                if case .failure(let error) = joined { await refuse(outbound, error) }
                return
            }
            (participant, connection) = (id, 0)
        }
        let ending = await withTaskGroup(of: Ending?.self) { group -> Ending in
            group.addTask {
                for await text in queue.messages {
                    do { try await outbound.write(.text(text)) } catch { return .writeFailed }
                }
                return nil
            }
            group.addTask {
                for await _ in queue.overflowed { return .tooSlow }
                return nil
            }
            group.addTask {
                await receive(inbound: inbound, room: room, participant: participant, send: send) ? .left : .socketClosed
            }
            var ending = Ending.socketClosed
            while let next = await group.next() {
                if let next {
                    ending = next
                    break
                }
            }
            switch ending {
            case .left:
                await service.leave(room: room, participant: participant)
            case .socketClosed, .writeFailed, .tooSlow:
                await service.detach(room: room, participant: participant, connection: connection)
            }
            if ending != .left && ending != .socketClosed {
                // A stuck write or read must not hold the session: cancel both.
                group.cancelAll()
            }
            queue.finish()
            await group.waitForAll()
            return ending
        }
        if ending == .tooSlow {
            logger.info("room client too slow, closed", metadata: ["participant": "\(participant)", "queue": "\(sendQueueMessages)"])
            // The client is not reading: do not wait on the close frame for long.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await outbound.close(.policyViolation, reason: "send_queue_full") }
                group.addTask { try? await Task.sleep(for: .seconds(2)) }
                _ = await group.next()
                group.cancelAll()
            }
        } else {
            try? await outbound.close(.normalClosure, reason: nil)
        }
    }

    /// The participant's display name: the token's `name` claim; without one, `?name=`; without
    /// that, the identity. Control characters are dropped and the result cut to 64 characters.
    static func displayName(claims: AccessTokenClaims?, query: String?, identity: String) -> String {
        let chosen = [claims?.name, query, identity].lazy.compactMap { $0 }.first { !$0.isEmpty } ?? identity
        let cleaned = String(String.UnicodeScalarView(chosen.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return String(cleaned.prefix(64))
    }

    /// Reads the participant's messages until it leaves (returns `true`) or the socket closes.
    private func receive(
        inbound: WebSocketInboundStream, room: String, participant: String, send: @Sendable (RoomServerMessage) -> Void
    ) async -> Bool {
        do {
            for try await message in inbound.messages(maxSize: maxMessageBytes) {
                guard case .text(let text) = message else {
                    send(.error(code: "bad_message", message: "messages are JSON text"))
                    continue
                }
                let decoded: RoomClientMessage
                do {
                    decoded = try JSONDecoder().decode(RoomClientMessage.self, from: Data(text.utf8))
                } catch {
                    send(.error(code: "bad_message", message: "not a JSON object with a \"type\" string"))
                    continue
                }
                if await !handle(decoded, room: room, participant: participant, send: send) { return true }
            }
        } catch {
            logger.debug("room socket ended", metadata: ["participant": "\(participant)", "error": "\(error)"])
        }
        return false
    }

    /// Returns `false` when the participant left.
    private func handle(
        _ message: RoomClientMessage, room: String, participant: String, send: @Sendable (RoomServerMessage) -> Void
    ) async -> Bool {
        switch message.type {
        case "publish":
            guard let sdp = message.sdp else { send(.error(code: "bad_message", message: "publish needs \"sdp\"")); return true }
            await service.publish(room: room, participant: participant, sdp: sdp)
        case "subscriber_answer":
            guard let sdp = message.sdp else {
                send(.error(code: "bad_message", message: "subscriber_answer needs \"sdp\""))
                return true
            }
            await service.subscriberAnswer(room: room, participant: participant, sdp: sdp)
        case "trickle":
            // ICE-lite (RFC 8445 §2.5): the SFU learns addresses from the peer's checks.
            break
        case "mute":
            guard let trackID = message.trackID, let muted = message.muted else {
                send(.error(code: "bad_message", message: "mute needs \"track_id\" and \"muted\""))
                return true
            }
            await service.mute(room: room, participant: participant, trackID: trackID, muted: muted)
        case "ice_restart":
            switch message.target {
            case "publisher":
                guard let sdp = message.sdp else {
                    send(.error(code: "bad_message", message: "ice_restart of the publisher needs \"sdp\" (the restart offer)"))
                    return true
                }
                await service.restartPublisherICE(room: room, participant: participant, sdp: sdp)
            case "subscriber":
                await service.restartSubscriberICE(room: room, participant: participant)
            default:
                send(.error(code: "bad_message", message: "ice_restart needs \"target\": \"publisher\" or \"subscriber\""))
            }
        case "set_quality":
            let usage = "set_quality needs \"track_id\" and \"quality\" (low, medium, high) or \"max_width\" and \"max_height\""
            guard let trackID = message.trackID else { send(.error(code: "bad_message", message: usage)); return true }
            let preference: LayerPreference
            switch (message.quality.map(LayerPreference.init(quality:)), message.maxWidth, message.maxHeight) {
            case (let named??, _, _): preference = named
            case (nil, let width?, let height?) where (1...16384).contains(width) && (1...16384).contains(height):
                preference = .maxSize(width: width, height: height)
            default:
                send(.error(code: "bad_message", message: usage))
                return true
            }
            await service.setQuality(room: room, participant: participant, trackID: trackID, preference: preference)
        case "leave":
            send(.left(reason: "leave"))
            return false
        default:
            send(.error(code: "bad_message", message: "unknown message type \"\(message.type.prefix(64))\""))
        }
        return true
    }

    private func refuse(_ outbound: WebSocketOutboundWriter, _ error: RoomError) async {
        try? await outbound.write(.text(RoomServerMessage.error(code: error.code, message: error.message).json))
        try? await outbound.close(.policyViolation, reason: error.code)
    }

    /// Query items of a request target (`application/x-www-form-urlencoded`: `+` is a space).
    static func queryItems(_ target: String) -> [String: String] {
        guard let start = target.firstIndex(of: "?") else { return [:] }
        var items: [String: String] = [:]
        for pair in target[target.index(after: start)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let key = parts.first.flatMap(decode), let value = (parts.count > 1 ? decode(parts[1]) : "") else { continue }
            items[key] = value
        }
        return items
    }

    /// The unverified `room` claim of a bearer token, used only to pick the room that the token is
    /// then verified against.
    static func tokenRoom(_ authorization: String) -> String? {
        guard let token = AccessTokens.bearerToken(authorization) else { return nil }
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let data = AccessTokens.base64URLDecode(segments[1]) else { return nil }
        struct Claims: Decodable { var room: String }
        return (try? JSONDecoder().decode(Claims.self, from: data))?.room
    }
}

/// Room names: 1-128 characters of `A-Z a-z 0-9 - _ .` (WHIP/WHEP, `/rtc`, dev tokens).
public enum RoomNames {
    public static func isValid(_ room: String) -> Bool {
        (1...128).contains(room.utf8.count)
            && room.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            }
    }
}
