import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTCPTransportCCTests {
    /// Three small deltas: one run-length chunk, padding with the P bit.
    @Test func writesRunLengthChunkWithPadding() throws {
        let feedback = RTCPTransportCC(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 10, referenceTime: 64, feedbackPacketCount: 5,
            packets: [.received(delta: 1), .received(delta: 2), .received(delta: 3)]
        )
        var buffer = ByteBuffer()
        feedback.write(to: &buffer)
        #expect(bytes(buffer) == bytes(hexBuffer("""
            af cd 00 06  # V=2 P=1 FMT=15, PT 205, 7 words
            00 00 00 01  # sender
            00 00 00 02  # media
            00 0a 00 03  # base 10, status count 3
            00 00 40 05  # reference time 64, feedback count 5
            20 03        # run length: symbol 1 (small), run 3
            01 02 03     # deltas
            00 00 03     # padding, count 3
            """)))
        #expect(try RTCPTransportCC(parsing: &buffer) == feedback)
    }

    /// A two-bit status vector with a negative (large) delta, padded without the P bit.
    @Test func parsesTwoBitStatusVector() throws {
        var buffer = hexBuffer("""
            8f cd 00 06
            00 00 00 01 00 00 00 02
            ff ff 00 04  # base 65535, 4 packets
            ff ff ff 00  # reference time −1
            d8 40        # vector S=1: small, large, not received, small
            04 ff f6 08  # deltas 4, −10, 8
            00 00
            """)
        let feedback = try RTCPTransportCC(parsing: &buffer)
        #expect(feedback.referenceTime == -1)
        #expect(feedback.packets == [.received(delta: 4), .received(delta: -10), .notReceived, .received(delta: 8)])
        #expect(feedback.receivedPackets.map(\.sequenceNumber) == [65535, 0, 2])
    }

    @Test func roundTripsMixedPatterns() throws {
        var generator = SplitMix64(seed: 99)
        for round in 0..<200 {
            let count = Int(generator.next() % 300) + 1
            var packets: [RTCPTransportCC.PacketStatus] = []
            for _ in 0..<count {
                switch generator.next() % 10 {
                case 0...2: packets.append(.notReceived)
                case 3...7: packets.append(.received(delta: Int16(generator.next() % 256)))
                default: packets.append(.received(delta: Int16(truncatingIfNeeded: generator.next())))
                }
                if round % 3 == 0, let last = packets.last {  // long runs
                    packets += Array(repeating: last, count: Int(generator.next() % 40))
                }
            }
            let feedback = RTCPTransportCC(
                senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: UInt16(truncatingIfNeeded: generator.next()),
                referenceTime: -5000, feedbackPacketCount: UInt8(round % 256), packets: packets
            )
            var buffer = ByteBuffer()
            let written = feedback.write(to: &buffer)
            #expect(written == buffer.readableBytes && written % 4 == 0)
            #expect(try RTCPTransportCC(parsing: &buffer) == feedback)
        }
    }

    @Test func longRunUsesFewChunks() {
        let feedback = RTCPTransportCC(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 0, referenceTime: 0, feedbackPacketCount: 0,
            packets: Array(repeating: .notReceived, count: 10_000)
        )
        #expect(feedback.chunks == [0x1FFF, UInt16(10_000 - 8191)])
    }

    @Test func missingDeltasAreTruncated() {
        var buffer = hexBuffer("8f cd 00 05 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 00 20 03 01 02")
        #expect { try RTCPTransportCC(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .truncated }
    }
}

@Suite struct RTCPTransportCCArrivalTests {
    @Test func buildsFromArrivalTimes() throws {
        let arrivals: [Int64?] = [1_000_000, nil, 1_000_400, 1_000_100, 1_070_000, nil, nil, 1_070_250]
        let feedback = try RTCPTransportCC(
            senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 100, feedbackPacketCount: 7, arrivalsMicroseconds: arrivals
        )
        #expect(feedback.referenceTime == 15)  // 1 000 000 µs / 64 000 µs
        // 960 ms reference → first arrival at 1000 ms is 40 ms = 160 ticks of 250 µs.
        #expect(feedback.packets[0] == .received(delta: 160))
        #expect(feedback.packets[2] == .received(delta: 2))
        var buffer = ByteBuffer()
        feedback.write(to: &buffer)
        let parsed = try RTCPTransportCC(parsing: &buffer)
        let recovered = parsed.arrivalsMicroseconds
        for (original, back) in zip(arrivals, recovered) {
            #expect((original == nil) == (back == nil))
            if let original, let back { #expect(abs(original - back) <= 125) }
        }
        #expect(parsed.packets[3] == .received(delta: -2))  // reordered arrival: large/negative symbol
    }

    @Test func oversizedDeltaAsksForANewPacket() {
        #expect {
            try RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 0, feedbackPacketCount: 0, arrivalsMicroseconds: [0, 9_000_000])
        } throws: { ($0 as? WireParseError)?.code == .valueOutOfRange }
    }
}
