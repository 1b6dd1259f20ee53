import ConnectCore
import Testing

@testable import Signalling

@Suite struct HexTests {
    @Test func roundTrips() {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xab, 0xff])
    }

    @Test func rejectsOddLengthAndOtherCharacters() {
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
        #expect(Hex.decode("é0") == nil)
    }
}
