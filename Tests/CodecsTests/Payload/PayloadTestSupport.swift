import NIOCore
import Testing
@testable import Codecs

/// Builds a buffer from hex text; whitespace and `#` comments are ignored so vectors can be
/// typed with their dissection beside them.
func hexBuffer(_ text: String) -> ByteBuffer {
    var buffer = ByteBuffer()
    for line in text.split(separator: "\n") {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = Array(code.filter { $0.isHexDigit })
        var index = 0
        while index + 1 < digits.count {
            if let byte = UInt8(String(digits[index...index + 1]), radix: 16) { buffer.writeInteger(byte) }
            index += 2
        }
    }
    return buffer
}

func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeBytes(bytes)
    return buffer
}

/// Deterministic generator (SplitMix64) for fuzz-style tests and synthetic payloads.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

/// An RTP-like packet stream for depacketizer tests.
struct TestPacket {
    var payload: ByteBuffer
    var sequenceNumber: UInt16
    var timestamp: UInt32
    var marker: Bool
}

/// Packetizes `frames` (one per timestamp step of 3000) into a numbered packet stream.
func packetStream<P: RTPPacketizer>(
    _ packetizer: inout P, frames: [ByteBuffer], firstSequenceNumber: UInt16 = 65_530
) throws -> [TestPacket] {
    var packets: [TestPacket] = []
    var sequence = firstSequenceNumber
    for (index, frame) in frames.enumerated() {
        let timestamp = UInt32(index) * 3000
        for item in try packetizer.packetize(frame: frame, timestamp: timestamp) {
            #expect(item.payload.readableBytes <= packetizer.maxPayloadSize)
            packets.append(TestPacket(payload: item.payload, sequenceNumber: sequence, timestamp: timestamp, marker: item.marker))
            sequence &+= 1
        }
    }
    return packets
}

/// Pushes packets, collecting frames and drops.
func depacketize<D: RTPDepacketizer>(_ depacketizer: inout D, _ packets: [TestPacket]) throws -> DepacketizerOutput {
    var all = DepacketizerOutput()
    for packet in packets {
        let output = try depacketizer.push(
            payload: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker
        )
        all.frames += output.frames
        all.dropped += output.dropped
    }
    return all
}

/// Expects `body` to throw a `PayloadError` with `code` (and nothing but a `PayloadError`).
func expectError<T>(
    _ code: PayloadError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) {
    do {
        _ = try body()
        Issue.record("expected PayloadError(\(code)), got success", sourceLocation: sourceLocation)
    } catch let error as PayloadError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
    }
}
