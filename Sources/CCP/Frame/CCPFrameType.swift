/// The CCP-1 frame types (SPEC §4.1). The raw value is the `type` byte on the wire.
public enum CCPFrameType: UInt8, CaseIterable, Hashable, Sendable {
    case hello = 0x01
    case auth = 0x02
    case join = 0x03
    case leave = 0x04
    case msg = 0x05
    case ack = 0x06
    case typing = 0x07
    case presence = 0x08
    case keyUpdate = 0x09
    case groupCreate = 0x0a
    case groupInvite = 0x0b
    case groupEvent = 0x0c
    case error = 0x0d
    case callOffer = 0x0e
    case callAnswer = 0x0f
    case callEnd = 0x10
    case voiceFrame = 0x11
    case videoFrame = 0x12
    case callStats = 0x13
    case transportUpdate = 0x14
    /// New in CommuCat-Swift: a JSON object, echoed by the server with the same `nonce`.
    case keepalive = 0x15

    /// Whether the payload is one JSON value (`true`) or opaque bytes (`false`: Msg, VoiceFrame
    /// and VideoFrame, SPEC §4.1).
    public var carriesJSON: Bool {
        switch self {
        case .msg, .voiceFrame, .videoFrame: false
        default: true
        }
    }
}
