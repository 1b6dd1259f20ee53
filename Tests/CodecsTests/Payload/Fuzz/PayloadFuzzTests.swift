import NIOCore
import Testing
@testable import Codecs

/// Deterministic fuzzing of every payload parser and depacketizer: for each, 20,000 inputs made
/// of random bytes and of valid packet streams that are truncated, bit-flipped, byte-replaced,
/// spliced and extended. Every input goes through the libFuzzer entry point of `Fuzz/` and
/// through the parser or depacketizer directly, which must either succeed or throw a
/// `PayloadError` with a code; the test process crashing is the failure.
@Suite struct PayloadFuzzTests {
    static let iterations = 20_000

    static func mutate(_ seed: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        var input = seed
        switch generator.next() % 6 {
        case 0:
            return (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        case 1:
            return Array(input.prefix(Int(generator.next() % UInt64(input.count + 1))))
        case 2:
            for _ in 0..<(1 + generator.next() % 6) where !input.isEmpty {
                input[Int(generator.next() % UInt64(input.count))] ^= UInt8(1) << (generator.next() % 8)
            }
        case 3:
            let interesting: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0x10, 0x18, 0x7C, 0x78, 0x90, 0xC0, 0x3F]
            for _ in 0..<(1 + generator.next() % 4) where !input.isEmpty {
                input[Int(generator.next() % UInt64(input.count))] = interesting[Int(generator.next() % UInt64(interesting.count))]
            }
        case 4:
            if input.count > 2 {
                let start = Int(generator.next() % UInt64(input.count))
                let length = Int(generator.next() % UInt64(input.count - start))
                input.insert(contentsOf: input[start..<(start + length)], at: Int(generator.next() % UInt64(input.count)))
            }
        default:
            input += (0..<(generator.next() % 16)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }
        return input
    }

    /// Encodes packets in the fuzz entry points' framing: `len flags payload`, step 1.
    static func framed(_ packets: [PacketizedPayload]) -> [UInt8] {
        packets.flatMap { packet -> [UInt8] in
            let payload = bytes(packet.payload).prefix(255)
            return [UInt8(payload.count), 0x02 | (packet.marker ? 0x01 : 0)] + payload
        }
    }

    static func seeds<P: RTPPacketizer>(_ packetizer: P, frames: [ByteBuffer]) throws -> [[UInt8]] {
        var packetizer = packetizer
        let packets = try frames.flatMap { try packetizer.packetize(frame: $0) }
        return [framed(packets), framed(Array(packets.prefix(3)))] + packets.map { bytes($0.payload) }
    }

    /// Runs `iterations` mutated inputs through `entry` and `direct`; returns (accepted, rejected).
    static func run(
        seeds: [[UInt8]], seed: UInt64, entry: (UnsafeRawBufferPointer) -> Void, direct: ([UInt8]) throws(PayloadError) -> Void
    ) -> (accepted: Int, rejected: Int) {
        var generator = SplitMix64(seed: seed)
        var accepted = 0
        var rejected = 0
        for index in 0..<iterations {
            let input = mutate(seeds[index % seeds.count], &generator)
            input.withUnsafeBytes { entry($0) }
            do {
                try direct(input)
                accepted += 1
            } catch {
                #expect(!error.code.description.isEmpty)
                rejected += 1
            }
        }
        return (accepted, rejected)
    }

    /// Pushes the fuzz-framed packets of `input` through a depacketizer; throws the first error
    /// but keeps going past it, as a receiver would.
    static func drive<D: RTPDepacketizer>(_ depacketizer: D, _ input: [UInt8]) throws(PayloadError) {
        var depacketizer = depacketizer
        var first: PayloadError?
        for packet in fuzzPackets(buffer(input)) {
            do {
                let output = try depacketizer.push(
                    payload: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker
                )
                for frame in output.frames { #expect(frame.packetCount >= 1) }
            } catch {
                first = first ?? error
            }
        }
        if let first { throw first }
    }

    @Test func opus() throws {
        let frames = (0..<4).map { buffer([0x78 + 8 * UInt8($0)] + randomBytes(20 + $0, seed: UInt64($0))) }
        let result = Self.run(seeds: try Self.seeds(OpusPacketizer(), frames: frames), seed: 1, entry: fuzzOpus) { input throws(PayloadError) in
            _ = try OpusPacketInfo(payload: buffer(input))
            try Self.drive(OpusDepacketizer(), input)
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func vp8() throws {
        let frames = [VP8PacketizerTests.frame(keyframe: true, size: 300, seed: 1), VP8PacketizerTests.frame(keyframe: false, size: 90, seed: 2)]
        let result = Self.run(seeds: try Self.seeds(VP8Packetizer(maxPayloadSize: 120), frames: frames), seed: 2, entry: fuzzVP8) { input throws(PayloadError) in
            var payload = buffer(input)
            _ = try VP8PayloadDescriptor(parsing: &payload)
            try Self.drive(VP8Depacketizer(), input)
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func vp9() throws {
        let frames = [VP9PacketizerTests.frame(keyframe: true, size: 300, seed: 1), VP9PacketizerTests.frame(keyframe: false, size: 90, seed: 2)]
        var seeds = try Self.seeds(VP9Packetizer(maxPayloadSize: 120), frames: frames)
        seeds.append(bytes(hexBuffer(VP9PayloadDescriptorTests.nonFlexibleKeyframe + " 82")))
        seeds.append(bytes(hexBuffer("F8 05 33 03 04 AA")))
        let result = Self.run(seeds: seeds, seed: 3, entry: fuzzVP9) { input throws(PayloadError) in
            var payload = buffer(input)
            _ = try VP9PayloadDescriptor(parsing: &payload)
            try Self.drive(VP9Depacketizer(), input)
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func h264() throws {
        let unit = H264PacketizerTests.unit
        let stream = [0, 0, 0, 1] + H264PacketizerTests.sps + [0, 0, 1] + H264PacketizerTests.pps + [0, 0, 1] + unit(0x65, 400, 1)
        let frames = [buffer(stream), buffer([0, 0, 1] + unit(0x41, 60, 2) + [0, 0, 1] + unit(0x41, 30, 3))]
        let result = Self.run(seeds: try Self.seeds(H264Packetizer(maxPayloadSize: 120), frames: frames), seed: 4, entry: fuzzH264) { input throws(PayloadError) in
            _ = try H264PacketInfo(payload: buffer(input))
            try Self.drive(H264Depacketizer(), input)
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func av1() throws {
        let obu = AV1PacketizerTests.obu
        let frames = [
            AV1PacketizerTests.stream([AV1PacketizerTests.sequenceHeader, obu(.frame, 300, 1, nil)]),
            AV1PacketizerTests.stream([obu(.metadata, 5, 2, nil), obu(.frame, 40, 3, 1), obu(.padding, 2, 4, nil)]),
        ]
        var seeds = try Self.seeds(AV1Packetizer(maxPayloadSize: 120), frames: frames)
        seeds += frames.map(bytes)
        let result = Self.run(seeds: seeds, seed: 5, entry: fuzzAV1) { input throws(PayloadError) in
            _ = try AV1AggregationHeader.forEachElement(in: buffer(input)) { element, _, _ throws(PayloadError) in
                _ = try AV1OBUHeader(bytes: element)
            }
            try Self.drive(AV1Depacketizer(), input)
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func dependencyDescriptor() throws {
        var withStructure = ByteBuffer()
        try DependencyDescriptor(templateID: 60, frameNumber: 1, attachedStructure: DependencyDescriptorTests.l1t3)
            .write(to: &withStructure, structure: nil)
        var custom = DependencyDescriptor(templateID: 62, frameNumber: 9, activeDecodeTargets: 3)
        var diffs = PackedSmallArray(bitWidth: 16)
        diffs.append(5)
        custom.customFrameDiffs = diffs
        var customBytes = ByteBuffer()
        try custom.write(to: &customBytes, structure: DependencyDescriptorTests.l1t3)
        let seeds = [bytes(withStructure), bytes(customBytes), [0xC0, 0x00, 0x01], bytes(hexBuffer("C0 00 01 80 00 E2 04 FE 02 CE"))]
        let result = Self.run(seeds: seeds, seed: 6, entry: fuzzDependencyDescriptor) { input throws(PayloadError) in
            let parsed = try DependencyDescriptor(parsing: buffer(input), structure: DependencyDescriptorTests.l1t3)
            let structure = parsed.attachedStructure ?? DependencyDescriptorTests.l1t3
            for target in 0..<structure.decodeTargetCount { _ = parsed.isSwitchPoint(for: target, in: structure) }
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }

    @Test func red() throws {
        var encoder = REDEncoder(payloadType: 111, distance: 2)
        let seeds = (0..<4).map { index in
            bytes(encoder.encode(frame: buffer(randomBytes(30 + index, seed: UInt64(index))), timestamp: UInt32(index) * 960))
        }
        let result = Self.run(seeds: seeds, seed: 7, entry: fuzzRED) { input throws(PayloadError) in
            _ = try REDPayload(parsing: buffer(input))
        }
        #expect(result.accepted > 0 && result.rejected > 0)
    }
}
