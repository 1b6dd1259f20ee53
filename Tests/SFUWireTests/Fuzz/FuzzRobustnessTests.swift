import NIOCore
import Testing
@testable import SFUWire

/// Deterministic fuzzing: for each parser, at least 20,000 inputs made of random bytes and of
/// valid packets that are truncated, bit-flipped, byte-replaced, spliced and extended. Every
/// input must either parse or throw a `WireParseError`; the test process crashing is the failure.
/// Inputs that parse are re-encoded through the libFuzzer entry points as well.
@Suite struct FuzzRobustnessTests {
    static let iterations = 20_000

    static func mutate(_ seed: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        var input = seed
        switch generator.next() % 6 {
        case 0:  // random bytes
            let length = Int(generator.next() % 160)
            return (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        case 1:  // truncation
            return Array(input.prefix(Int(generator.next() % UInt64(input.count + 1))))
        case 2:  // bit flips
            for _ in 0..<(1 + generator.next() % 4) where !input.isEmpty {
                let index = Int(generator.next() % UInt64(input.count))
                input[index] ^= UInt8(1) << (generator.next() % 8)
            }
        case 3:  // interesting values at random positions
            let interesting: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0x10, 0xBE, 0xDE, 0x0F, 0xF0]
            for _ in 0..<(1 + generator.next() % 3) where !input.isEmpty {
                let index = Int(generator.next() % UInt64(input.count))
                input[index] = interesting[Int(generator.next() % UInt64(interesting.count))]
            }
        case 4:  // splice a chunk of itself elsewhere
            if input.count > 2 {
                let start = Int(generator.next() % UInt64(input.count))
                let length = Int(generator.next() % UInt64(input.count - start))
                let chunk = input[start..<(start + length)]
                input.insert(contentsOf: chunk, at: Int(generator.next() % UInt64(input.count)))
            }
        default:  // append garbage
            input += (0..<(generator.next() % 12)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        return input
    }

    /// Runs `body` on `iterations` mutated inputs; returns how many parsed successfully.
    static func run(seeds: [[UInt8]], seed: UInt64, _ body: ([UInt8]) throws(WireParseError) -> Void) -> (parsed: Int, rejected: Int) {
        var generator = SplitMix64(seed: seed)
        var parsed = 0
        var rejected = 0
        for index in 0..<iterations {
            let input = mutate(seeds[index % seeds.count], &generator)
            do {
                try body(input)
                parsed += 1
            } catch {
                #expect(!error.code.description.isEmpty)
                rejected += 1
            }
        }
        return (parsed, rejected)
    }

    static var stunSeeds: [[UInt8]] {
        var success = ByteBuffer()
        STUNMessage.writeBindingSuccess(
            to: &success, transactionID: RFC5769.transactionID, mappedAddress: STUNAddress(ip: .v6(1, 2), port: 3),
            integrityKey: STUNCredentials.shortTermKey(password: "x")
        )
        return [bytes(RFC5769.request), bytes(RFC5769.ipv4Response), bytes(RFC5769.ipv6Response), bytes(success)]
    }

    static var rtpSeeds: [[UInt8]] {
        var twoByte = RTPHeaderExtensionsBuilder(form: .twoByte(appBits: 0))
        try? twoByte.append(id: 20, value: [1, 2, 3])
        var packet = ByteBuffer()
        RTPPacket.write(to: &packet, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, csrcs: [4, 5], extensions: twoByte, payload: ByteBuffer(bytes: [9, 9]), paddingLength: 3)
        return [bytes(RTPPacketTests.chromeVideo), bytes(packet)]
    }

    static var rtcpSeeds: [[UInt8]] {
        let packets: [RTCPPacket] = [
            .senderReport(RTCPSenderReport(ssrc: 1, ntpTimestamp: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5, reportBlocks: [RTCPReportBlock(ssrc: 9)])),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(source: 1, items: [.cname("abc")])])),
            .bye(RTCPBye(sources: [1], reason: "x")),
            .nack(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [1, 3, 40])),
            .transportCC(RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 0, referenceTime: 0, feedbackPacketCount: 0, packets: [.received(delta: 1), .notReceived, .received(delta: -300)])),
            .remb(RTCPRemb(senderSSRC: 1, bitrate: 500_000, ssrcs: [2])),
            .fullIntraRequest(RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 3)])),
            .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2)),
        ]
        var compound = ByteBuffer()
        for packet in packets { packet.write(to: &compound) }
        return packets.map { packet in
            var buffer = ByteBuffer()
            packet.write(to: &buffer)
            return bytes(buffer)
        } + [bytes(compound)]
    }

    @Test func stunNeverCrashes() {
        let key = STUNCredentials.shortTermKey(password: RFC5769.password)
        let result = Self.run(seeds: Self.stunSeeds, seed: 1) { input throws(WireParseError) in
            let message = try STUNMessage(bytes: ByteBuffer(bytes: input))
            _ = (message.username, message.xorMappedAddress, message.errorCode, message.verifyMessageIntegrity(key: key))
            _ = (message.hasValidFingerprint, message.verifyMessageIntegritySHA256(key: key), Array(message.attributes).count)
            input.withUnsafeBytes { fuzzSTUN($0) }
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func rtpNeverCrashes() {
        let result = Self.run(seeds: Self.rtpSeeds, seed: 2) { input throws(WireParseError) in
            var packet = try RTPPacket(buffer: ByteBuffer(bytes: input))
            _ = (packet.payload, Array(packet.extensions), packet.extensionValue(id: 1), packet.csrc(at: 0))
            packet.rewrite(ssrc: 1, sequenceNumber: 1, timestamp: 1, payloadType: 1)
            _ = try RTPPacket(buffer: packet.buffer)
            input.withUnsafeBytes { fuzzRTP($0) }
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func rtcpNeverCrashes() {
        let result = Self.run(seeds: Self.rtcpSeeds, seed: 3) { input throws(WireParseError) in
            let packets = try RTCPCompoundIterator.parseAll(ByteBuffer(bytes: input))
            var out = ByteBuffer()
            for packet in packets { packet.write(to: &out) }
            // Whatever parsed must re-encode to something that parses to the same values,
            // except REMB bitrates that saturate and lose precision.
            let again = try RTCPCompoundIterator.parseAll(out)
            #expect(again.count == packets.count)
            input.withUnsafeBytes { fuzzRTCP($0) }
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func sdpNeverCrashes() throws {
        let seeds = try SessionDescriptionTests.fixtures.map { Array(try fixture($0).utf8) }
            + [Array(SDPParserErrorTests.valid.utf8)]
        let result = Self.run(seeds: seeds, seed: 4) { input throws(WireParseError) in
            let description = try SessionDescription(parsing: String(decoding: input, as: UTF8.self))
            let reparsed = try SessionDescription(parsing: description.serialized)
            #expect(reparsed.serialized == description.serialized)
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func candidateNeverCrashes() {
        let seeds = [
            "candidate:842163049 1 udp 1686052607 203.0.113.5 54321 typ srflx raddr 192.168.1.10 rport 54321 generation 0",
            "candidate:2 1 TCP 2105524479 192.168.1.20 9 typ host tcptype active",
        ].map { Array($0.utf8) }
        let result = Self.run(seeds: seeds, seed: 5) { input throws(WireParseError) in
            let candidate = try SDPCandidate(parsing: String(decoding: input, as: UTF8.self))
            #expect(try SDPCandidate(parsing: candidate.attributeText) == candidate)
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func trickleFragmentNeverCrashes() {
        let seeds = [Array(SDPFragmentTests.patch.utf8)]
        let result = Self.run(seeds: seeds, seed: 7) { input throws(WireParseError) in
            let fragment = try SDPFragment(parsing: String(decoding: input, as: UTF8.self))
            #expect(try SDPFragment(parsing: fragment.serialized) == fragment)
            input.withUnsafeBytes { fuzzSDPFragment($0) }
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }

    @Test func framingAndDemuxNeverCrash() throws {
        var stream = ByteBuffer()
        try RFC4571FrameEncoder.write(frame: RFC5769.request, to: &stream)
        try RFC4571FrameEncoder.write(frame: ByteBuffer(bytes: [1, 2, 3]), to: &stream)
        let result = Self.run(seeds: [bytes(stream)] + Self.rtpSeeds, seed: 6) { input throws(WireParseError) in
            var buffer = ByteBuffer(bytes: input)
            _ = PacketClass(classifying: buffer)
            var decoder = RFC4571FrameDecoder(maximumFrameLength: 2000)
            while let frame = try decoder.decode(buffer: &buffer) { _ = PacketClass(classifying: frame) }
            _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
            input.withUnsafeBytes {
                fuzzDemux($0)
                fuzzRFC4571($0)
                fuzzSDP($0)
            }
        }
        #expect(result.parsed > 100 && result.rejected > 100)
    }
}
