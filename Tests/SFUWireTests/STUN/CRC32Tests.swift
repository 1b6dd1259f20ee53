import Testing
@testable import SFUWire

@Suite struct CRC32Tests {
    /// The standard check value of CRC-32/ISO-HDLC (the zlib CRC).
    @Test func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test func incrementalEqualsOneShot() {
        let data = Array("The quick brown fox jumps over the lazy dog".utf8)
        #expect(CRC32.checksum(data) == 0x414F_A339)
        let running = data.withUnsafeBytes { bytes in
            CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<10])), UnsafeRawBufferPointer(rebasing: bytes[10...]))
        }
        #expect(running == 0x414F_A339)
    }
}
