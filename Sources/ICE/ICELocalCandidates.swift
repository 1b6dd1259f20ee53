import SFUWire

/// The candidates an ICE-lite server advertises (SPEC §3.1, RFC 8445 §2.5: host candidates only):
/// the configured public IPs (NAT 1:1) or else the bound address, and optionally ICE-TCP passive
/// candidates (RFC 6544) on a separate port.
public enum ICELocalCandidates {
    /// Host candidates for the shared UDP port.
    ///
    /// - Parameters:
    ///   - boundIP: the address the socket is bound to; used when `publicIPs` is empty. An
    ///     unspecified address (`0.0.0.0`, `::`) cannot be advertised and yields nothing; pass the
    ///     interface addresses as `publicIPs` instead.
    ///   - port: the bound UDP port.
    ///   - publicIPs: addresses peers reach us at (NAT 1:1), in order of preference.
    ///   - tcpPassivePort: when set, an RFC 6544 `tcptype passive` candidate per address too.
    /// - Returns: candidates in order of preference, duplicates and unparsable addresses removed.
    public static func host(
        boundIP: String, port: UInt16, publicIPs: [String] = [], tcpPassivePort: UInt16? = nil
    ) -> [SDPCandidate] {
        var addresses: [STUNAddress] = []
        for text in (publicIPs.isEmpty ? [boundIP] : publicIPs) {
            guard let address = STUNAddress(ipAddress: text, port: port), !isUnspecified(address),
                  !addresses.contains(where: { $0.ip == address.ip })
            else { continue }
            addresses.append(address)
        }
        var candidates: [SDPCandidate] = []
        for (rank, address) in addresses.enumerated() {
            // RFC 8445 §5.1.2.1: local preference 65535 for the most preferred address, lower after.
            let localPreference = UInt32(max(0, 65535 - rank))
            candidates.append(SDPCandidate(
                foundation: foundation(address, transport: "udp"), component: 1, transport: "UDP",
                priority: SDPCandidate.priority(typePreference: 126, localPreference: localPreference, component: 1),
                address: address.ipString, port: port, type: .host
            ))
        }
        if let tcpPassivePort {
            for (rank, address) in addresses.enumerated() {
                candidates.append(SDPCandidate(
                    foundation: foundation(address, transport: "tcp"), component: 1, transport: "TCP",
                    priority: tcpPassivePriority(rank: rank), address: address.ipString, port: tcpPassivePort,
                    type: .host, tcpType: .passive
                ))
            }
        }
        return candidates
    }

    /// RFC 6544 §4.2: local preference = 2^13·direction-pref + other-pref, with direction-pref 4
    /// for passive host candidates (below UDP's 65535, so UDP stays preferred).
    static func tcpPassivePriority(rank: Int) -> UInt32 {
        let otherPreference = UInt32(max(0, 8191 - rank))
        return SDPCandidate.priority(typePreference: 126, localPreference: (4 << 13) | otherPreference, component: 1)
    }

    /// RFC 8445 §5.1.1.3: same foundation for the same type, base IP and transport, different
    /// otherwise. A CRC-32 of those, in decimal (ice-chars only, RFC 8839 §5.1).
    static func foundation(_ address: STUNAddress, transport: String) -> String {
        String(CRC32.checksum(Array("host|\(transport)|\(address.ipString)".utf8)))
    }

    static func isUnspecified(_ address: STUNAddress) -> Bool {
        switch address.ip {
        case .v4(let ip): return ip == 0
        case .v6(let high, let low): return high == 0 && low == 0
        }
    }
}
