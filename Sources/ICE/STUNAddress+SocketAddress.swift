import NIOCore
import SFUWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension STUNAddress {
    /// The IP and port of a NIO socket address, read from the `sockaddr` (no text, no allocation).
    /// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2, seen on dual-stack
    /// sockets) become IPv4 so that a peer's IPv4 address has one identity. `nil` for Unix sockets.
    public init?(_ socketAddress: SocketAddress) {
        switch socketAddress {
        case .v4(let v4):
            let raw = v4.address
            self.init(ip: .v4(UInt32(bigEndian: raw.sin_addr.s_addr)), port: UInt16(bigEndian: raw.sin_port))
        case .v6(let v6):
            let raw = v6.address
            let (high, low) = withUnsafeBytes(of: raw.sin6_addr) { bytes in
                (
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            let port = UInt16(bigEndian: raw.sin6_port)
            if high == 0, low >> 32 == 0xFFFF {
                self.init(ip: .v4(UInt32(truncatingIfNeeded: low)), port: port)
            } else {
                self.init(ip: .v6(high, low), port: port)
            }
        case .unixDomainSocket:
            return nil
        }
    }

    /// This address as IPv4-mapped IPv6 when it is IPv4 (for sending from an IPv6 dual-stack
    /// socket), unchanged otherwise.
    public var ipv4MappedIfNeeded: STUNAddress {
        guard case .v4(let ip) = self.ip else { return self }
        return STUNAddress(ip: .v6(0, 0xFFFF_0000_0000 | UInt64(ip)), port: port)
    }
}

extension SocketAddress {
    /// A NIO socket address for a STUN transport address, built from a `sockaddr`.
    public init(_ address: STUNAddress) {
        switch address.ip {
        case .v4(let ip):
            var raw = sockaddr_in()
            raw.sin_family = sa_family_t(AF_INET)
            raw.sin_port = address.port.bigEndian
            raw.sin_addr.s_addr = ip.bigEndian
            self.init(raw)
        case .v6(let high, let low):
            var raw = sockaddr_in6()
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = address.port.bigEndian
            withUnsafeMutableBytes(of: &raw.sin6_addr) { bytes in
                bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            self.init(raw)
        }
    }
}
