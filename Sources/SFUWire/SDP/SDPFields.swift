/// Session-level and media-level line values of RFC 8866 §5 (o=, c=, b=, t=).

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2).
public struct SDPOrigin: Hashable, Sendable {
    public var username: String
    /// Numeric string; kept as text because RFC 8866 does not bound its size.
    public var sessionID: String
    public var sessionVersion: UInt64
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(
        username: String = "-", sessionID: String, sessionVersion: UInt64, networkType: String = "IN",
        addressType: String = "IP4", address: String = "127.0.0.1"
    ) {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 6, fields[1].allSatisfy(\.isASCIIDigit), let version = UInt64(fields[2]) else {
            return nil
        }
        self.init(
            username: String(fields[0]), sessionID: String(fields[1]), sessionVersion: version,
            networkType: String(fields[3]), addressType: String(fields[4]), address: String(fields[5])
        )
    }

    public var sdpValue: String {
        "\(username) \(sessionID) \(sessionVersion) \(networkType) \(addressType) \(address)"
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (RFC 8866 §5.7).
public struct SDPConnection: Hashable, Sendable {
    public var networkType: String
    public var addressType: String
    public var address: String

    public init(networkType: String = "IN", addressType: String = "IP4", address: String) {
        self.networkType = networkType
        self.addressType = addressType
        self.address = address
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 3 else { return nil }
        self.init(networkType: String(fields[0]), addressType: String(fields[1]), address: String(fields[2]))
    }

    public var sdpValue: String { "\(networkType) \(addressType) \(address)" }
}

/// `b=<bwtype>:<bandwidth>` (RFC 8866 §5.8), e.g. `AS:2500` or `TIAS:2500000`.
public struct SDPBandwidth: Hashable, Sendable {
    public var type: String
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }

    init?(value text: Substring) {
        guard let colon = text.firstIndex(of: ":"), let value = UInt64(text[text.index(after: colon)...]) else {
            return nil
        }
        let type = text[..<colon]
        guard !type.isEmpty, !type.contains(" ") else { return nil }
        self.init(type: String(type), value: value)
    }

    public var sdpValue: String { "\(type):\(value)" }
}

/// `t=<start-time> <stop-time>` and its `r=` repeat lines (RFC 8866 §5.9-§5.10).
public struct SDPTiming: Hashable, Sendable {
    public var start: UInt64
    public var stop: UInt64
    /// `r=` values, verbatim.
    public var repeats: [String]

    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 2, let start = UInt64(fields[0]), let stop = UInt64(fields[1]) else { return nil }
        self.init(start: start, stop: stop)
    }

    public var sdpValue: String { "\(start) \(stop)" }
}
