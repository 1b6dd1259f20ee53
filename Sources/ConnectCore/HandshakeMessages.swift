import CCP
import Foundation
import NIOCore

/// The JSON payloads of the CCP-1 handshake (SPEC §4.2). Binary fields are lower-case hex.
public enum HandshakeMessages {
    /// `Hello`, client → server.
    public struct Hello: Codable, Sendable, Hashable {
        public struct User: Codable, Sendable, Hashable {
            public var handle: String?
            public var displayName: String?
            enum CodingKeys: String, CodingKey {
                case handle
                case displayName = "display_name"
            }
            public init(handle: String?, displayName: String?) {
                self.handle = handle
                self.displayName = displayName
            }
        }

        public var pattern: String
        public var supportedVersions: [Int]
        public var deviceID: String
        public var handshake: String
        public var clientStatic: String
        public var devicePublic: String
        public var deviceProof: String
        public var user: User?
        public var certificate: String?
        /// `2` for the confirmed handshake (docs/PROTOCOL.md §1.2); a Hello without it is refused.
        public var handshakeRevision: Int?

        enum CodingKeys: String, CodingKey {
            case pattern
            case handshakeRevision = "handshake_revision"
            case supportedVersions = "supported_versions"
            case deviceID = "device_id"
            case handshake
            case clientStatic = "client_static"
            case devicePublic = "device_public"
            case deviceProof = "device_proof"
            case user, certificate
        }

        public init(
            pattern: String, supportedVersions: [Int], deviceID: String, handshake: String, clientStatic: String, devicePublic: String,
            deviceProof: String, user: User? = nil, certificate: String? = nil, handshakeRevision: Int? = ConnectHandshake.revision
        ) {
            self.handshakeRevision = handshakeRevision
            self.pattern = pattern
            self.supportedVersions = supportedVersions
            self.deviceID = deviceID
            self.handshake = handshake
            self.clientStatic = clientStatic
            self.devicePublic = devicePublic
            self.deviceProof = deviceProof
            self.user = user
            self.certificate = certificate
        }
    }

    /// `Auth`, server → client. Revision 2 sends no `session` here: the session id travels only in
    /// the encrypted Ack, after the client confirmed the handshake.
    public struct ServerAuth: Codable, Sendable, Hashable {
        public var session: String?
        public var deviceID: String
        public var handshake: String
        public var serverStatic: String
        public var protocolVersion: Int
        public var supportedVersions: [Int]

        enum CodingKeys: String, CodingKey {
            case session
            case deviceID = "device_id"
            case handshake
            case serverStatic = "server_static"
            case protocolVersion = "protocol_version"
            case supportedVersions = "supported_versions"
        }
    }

    /// `Auth`, client → server (XK message 3).
    public struct ClientAuth: Codable, Sendable, Hashable {
        public var handshake: String
        public init(handshake: String) { self.handshake = handshake }
    }

    /// `Auth`, client → server, the first encrypted frame (revision 2): the confirmation proof
    /// (``DeviceProof/signConfirmation(deviceKey:domain:deviceID:handshakeHash:)``), hex.
    public struct Confirm: Codable, Sendable, Hashable {
        public var deviceProof: String
        enum CodingKeys: String, CodingKey {
            case deviceProof = "device_proof"
        }
        public init(deviceProof: String) { self.deviceProof = deviceProof }
    }

    /// `Ack`, server → client: in revision 2 the first encrypted frame from the server.
    public struct Ack: Codable, Sendable, Hashable {
        public struct User: Codable, Sendable, Hashable {
            public var id: String
            public var handle: String
            public var displayName: String?
            enum CodingKeys: String, CodingKey {
                case id, handle
                case displayName = "display_name"
            }
        }

        public var handshake: String
        public var session: String
        public var user: User
        public var deviceCertificate: String
        public var deviceCAPublic: String
        public var noiseKeyVersion: Int64
        public var keepaliveInterval: Int

        enum CodingKeys: String, CodingKey {
            case handshake, session, user
            case deviceCertificate = "device_certificate"
            case deviceCAPublic = "device_ca_public"
            case noiseKeyVersion = "noise_key_version"
            case keepaliveInterval = "keepalive_interval"
        }
    }

    /// `Error {error, detail}`.
    public struct ErrorPayload: Codable, Sendable, Hashable {
        public var error: String
        public var detail: String?
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A frame carrying `value` as JSON.
    public static func frame(_ type: CCPFrameType, channel: UInt32 = 0, sequence: UInt32, _ value: some Encodable) -> CCPFrame {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return CCPFrame(type: type, channelID: channel, sequence: sequence, payload: ByteBuffer(bytes: data))
    }

    /// Decodes a frame's JSON payload.
    public static func decode<T: Decodable>(_ type: T.Type, from frame: CCPFrame) throws(ConnectError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(frame.payload.readableBytesView))
        } catch {
            throw ConnectError(.decode, "malformed \(T.self) payload")
        }
    }

    /// The `Error` frame for `error`.
    public static func errorFrame(_ error: ConnectError, channel: UInt32 = 0, sequence: UInt32) -> CCPFrame {
        frame(.error, channel: channel, sequence: sequence, ErrorPayload(error: error.code.rawValue, detail: error.detail))
    }
}
