import NIOCore
import Testing
@testable import Codecs

@Suite struct REDPayloadTests {
    @Test func rfc2198Layout() throws {
        // RFC 2198 §3: one redundant block (PT 111, offset 960, 3 bytes), primary PT 111.
        let payload = hexBuffer("""
            EF 0F 00 03   # F=1 PT=111, timestamp offset 960 (14 bits), block length 3 (10 bits)
            6F            # F=0 PT=111: primary
            01 02 03      # redundant block
            0A 0B 0C 0D   # primary block
            """)
        let red = try REDPayload(parsing: payload)
        #expect(red.redundant == [REDBlock(payloadType: 111, timestampOffset: 960, data: hexBuffer("01 02 03"))])
        #expect(red.primary == REDBlock(payloadType: 111, data: hexBuffer("0A 0B 0C 0D")))
        #expect(try REDPayload.primaryBlock(in: payload) == red.primary)
        var out = ByteBuffer()
        #expect(try red.write(to: &out) == red.encodedSize)
        #expect(out == payload)
    }

    @Test func primaryOnly() throws {
        let red = try REDPayload(parsing: hexBuffer("6F AA"))
        #expect(red.redundant.isEmpty && bytes(red.primary.data) == [0xAA])
    }

    @Test func encoderCarriesPreviousFrames() throws {
        var encoder = REDEncoder(payloadType: 63, distance: 2)
        var frames: [ByteBuffer] = []
        var payloads: [ByteBuffer] = []
        for index in 0..<5 {
            let frame = buffer([0x78] + randomBytes(40 + index, seed: UInt64(index)))
            frames.append(frame)
            payloads.append(encoder.encode(frame: frame, timestamp: UInt32(index) * 960))
        }
        let last = try REDPayload(parsing: payloads[4])
        #expect(last.primary.data == frames[4])
        #expect(last.redundant.map(\.data) == [frames[2], frames[3]])
        #expect(last.redundant.map(\.timestampOffset) == [1920, 960])
        #expect(try REDPayload(parsing: payloads[0]).redundant.isEmpty)
    }

    @Test func malformed() {
        expectError(.truncated) { try REDPayload(parsing: ByteBuffer()) }
        expectError(.truncated) { try REDPayload(parsing: hexBuffer("EF 0F 00")) }
        expectError(.truncated) { try REDPayload(parsing: hexBuffer("EF 0F 00 03")) }  // no primary header
        expectError(.invalidLength) { try REDPayload(parsing: hexBuffer("EF 0F 00 09 6F 01 02")) }  // block past the end
        let tooOld = REDPayload(redundant: [REDBlock(payloadType: 1, timestampOffset: 0x4000, data: ByteBuffer())], primary: REDBlock(payloadType: 1, data: ByteBuffer()))
        var out = ByteBuffer()
        expectError(.valueOutOfRange) { try tooOld.write(to: &out) }
    }
}
