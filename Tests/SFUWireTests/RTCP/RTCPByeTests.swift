import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTCPByeTests {
    @Test func roundTripsWithAndWithoutReason() throws {
        for bye in [RTCPBye(sources: [1, 2]), RTCPBye(sources: [7], reason: "bye now"), RTCPBye(sources: [], reason: "abc")] {
            var buffer = ByteBuffer()
            #expect(bye.write(to: &buffer) == bye.encodedSize)
            #expect(buffer.readableBytes % 4 == 0)
            #expect(try RTCPBye(parsing: &buffer) == bye)
        }
    }

    @Test func parsesReason() throws {
        var buffer = hexBuffer("81 cb 00 03 00 00 00 09 05 6c 65 61 76 65 00 00")
        let bye = try RTCPBye(parsing: &buffer)
        #expect(bye.sources == [9])
        #expect(bye.reasonText == "leave")
    }
}
