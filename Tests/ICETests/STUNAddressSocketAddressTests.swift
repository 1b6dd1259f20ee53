import NIOCore
import SFUWire
import Testing
@testable import ICE

@Suite struct STUNAddressSocketAddressTests {
    @Test(arguments: ["127.0.0.1", "203.0.113.200", "::1", "2001:db8::1:2"])
    func roundTrips(_ ip: String) throws {
        let socket = try SocketAddress(ipAddress: ip, port: 5004)
        let stun = try #require(STUNAddress(socket))
        #expect(stun == STUNAddress(ipAddress: ip, port: 5004))
        #expect(SocketAddress(stun) == socket)
    }

    @Test func ipv4MappedBecomesIPv4() throws {
        let socket = try SocketAddress(ipAddress: "::ffff:192.0.2.33", port: 9)
        let stun = try #require(STUNAddress(socket))
        #expect(stun == STUNAddress(ipAddress: "192.0.2.33", port: 9))
        #expect(SocketAddress(stun.ipv4MappedIfNeeded) == socket)
    }
}
