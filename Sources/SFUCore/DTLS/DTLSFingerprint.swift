/// A certificate fingerprint as SDP carries it: `a=fingerprint:sha-256 AB:CD:…` (RFC 8122 §5).
public struct DTLSFingerprint: Hashable, Sendable, CustomStringConvertible {
    /// Hash functions CommuCat computes and accepts (RFC 8122 §5 names, from the IANA
    /// "Hash Function Textual Names" registry).
    public enum Algorithm: String, Hashable, Sendable, CaseIterable {
        case sha1 = "sha-1"
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        /// Digest length in bytes.
        public var digestLength: Int {
            switch self {
            case .sha1: return 20
            case .sha256: return 32
            case .sha384: return 48
            case .sha512: return 64
            }
        }

        /// Parses a hash name; RFC 8122 §5 says the names are case-insensitive.
        public init?(name: some StringProtocol) {
            guard let algorithm = Self(rawValue: name.lowercased()) else { return nil }
            self = algorithm
        }
    }

    public var algorithm: Algorithm
    public var digest: [UInt8]

    public init(algorithm: Algorithm, digest: [UInt8]) {
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Parses hash name and `XX:XX:…` hex separately (as `SFUWire.SDPFingerprint` holds them).
    public init(algorithm name: String, hex: String) throws(DTLSError) {
        guard let algorithm = Algorithm(name: name) else {
            throw DTLSError(code: .invalidFingerprint, detail: "unsupported hash function")
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(algorithm.digestLength)
        for pair in hex.split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else {
                throw DTLSError(code: .invalidFingerprint, detail: "fingerprint is not XX:XX:… hex")
            }
            digest.append(byte)
        }
        guard digest.count == algorithm.digestLength else {
            throw DTLSError(code: .invalidFingerprint, detail: "fingerprint length does not match hash")
        }
        self.init(algorithm: algorithm, digest: digest)
    }

    /// Parses the attribute value `sha-256 AB:CD:…`.
    public init(sdpValue: String) throws(DTLSError) {
        let fields = sdpValue.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 2 else {
            throw DTLSError(code: .invalidFingerprint, detail: "expected '<hash-func> <fingerprint>'")
        }
        try self.init(algorithm: String(fields[0]), hex: String(fields[1]))
    }

    /// Upper-case hex pairs joined by colons (RFC 8122 §5), e.g. `AB:CD:…`.
    public var hexValue: String {
        let digits: [Character] = Array("0123456789ABCDEF")
        var text = ""
        text.reserveCapacity(digest.count * 3)
        for (index, byte) in digest.enumerated() {
            if index > 0 { text.append(":") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// The attribute value, e.g. `sha-256 AB:CD:…`.
    public var sdpValue: String { "\(algorithm.rawValue) \(hexValue)" }

    public var description: String { sdpValue }

    /// Compares digests without an early exit on the first differing byte.
    func matches(_ other: DTLSFingerprint) -> Bool {
        guard algorithm == other.algorithm, digest.count == other.digest.count else { return false }
        var difference: UInt8 = 0
        for index in digest.indices { difference |= digest[index] ^ other.digest[index] }
        return difference == 0
    }
}
