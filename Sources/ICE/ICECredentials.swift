/// An ICE username fragment and password (RFC 8445 §5.3, SDP `a=ice-ufrag` / `a=ice-pwd`).
public struct ICECredentials: Hashable, Sendable {
    public var ufrag: String
    public var password: String

    public init(ufrag: String, password: String) {
        self.ufrag = ufrag
        self.password = password
    }

    /// Fresh local credentials. RFC 8445 §5.3 asks for at least 24 random bits in the ufrag and
    /// 128 in the password; RFC 8839 §5.4 for 4 and 22 ice-chars at least. Ours: 8 and 24
    /// alphanumerics (≈ 47 and ≈ 142 bits).
    public static func random(using generator: inout some RandomNumberGenerator) -> ICECredentials {
        ICECredentials(ufrag: randomText(count: 8, using: &generator), password: randomText(count: 24, using: &generator))
    }

    /// Fresh local credentials from the system generator.
    public static func random() -> ICECredentials {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    private static func randomText(count: Int, using generator: inout some RandomNumberGenerator) -> String {
        let bytes = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/".
    static func isICEChars(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2B || byte == 0x2F
        }
    }

    /// Checks the RFC 8839 §5.4 grammar: ufrag 4...256 and password 22...256 ice-chars.
    public func validate() throws(ICEError) {
        guard (4...256).contains(ufrag.utf8.count), ICECredentials.isICEChars(ufrag) else {
            throw ICEError(.invalidUfrag, detail: "ice-ufrag must be 4...256 ice-chars")
        }
        guard (22...256).contains(password.utf8.count), ICECredentials.isICEChars(password) else {
            throw ICEError(.invalidPassword, detail: "ice-pwd must be 22...256 ice-chars")
        }
    }
}

/// A local ufrag packed into fixed inline storage so the session table can hash the first half of
/// a STUN USERNAME without allocating (SPEC §3.1: demux by USERNAME).
public struct ICEUfragKey: Hashable, Sendable {
    /// Local ufrags longer than this cannot be registered (ours are 8 characters).
    public static let maximumLength = 32

    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    private var w3: UInt64 = 0
    private var count: UInt8 = 0

    /// `nil` when `bytes` is empty or longer than ``maximumLength``.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty, bytes.count <= ICEUfragKey.maximumLength else { return nil }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { storage in
            storage.copyMemory(from: bytes)
        }
        (w0, w1, w2, w3) = words
        count = UInt8(bytes.count)
    }

    /// `nil` when `ufrag` is empty or longer than ``maximumLength`` bytes.
    public init?(_ ufrag: String) {
        var text = ufrag
        guard let key = text.withUTF8({ ICEUfragKey(bytes: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = key
    }
}
