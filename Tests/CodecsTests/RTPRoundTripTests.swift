// Real encoder output through the RTP payload formats and back: encode → packetize →
// depacketize → decode, with a PSNR floor per codec, and keyframe detection (per packet, as the
// SFU does, and per assembled frame) checked against what the encoder said.
import Codecs
import CodecsGPL
import NIOCore
import Testing

@Suite struct RTPRoundTripTests {
    enum Video: String, CaseIterable, Sendable {
        case vp8, vp9, av1, h264

        var payloadCodec: VideoPayloadCodec {
            switch self {
            case .vp8: .vp8
            case .vp9: .vp9
            case .av1: .av1
            case .h264: .h264
            }
        }

        /// Y-PSNR floor at 800 kbit/s, 320×240, after the RTP round trip.
        var psnrFloor: Double { 30 }
    }

    /// One codec's encoder, packetizer, depacketizer and decoder behind closures.
    struct Pipeline {
        var encode: (I420Frame, Int, Bool) throws -> [EncodedFrame]
        var packetize: ([UInt8], UInt32) throws -> [PacketizedPayload]
        var depacketize: (ByteBuffer, UInt16, UInt32, Bool) throws -> DepacketizerOutput
        var decode: ([UInt8], (I420View) -> Void) throws -> Void
    }

    static func pipeline(_ codec: Video, width: Int, height: Int) throws -> Pipeline {
        switch codec {
        case .vp8, .vp9:
            let vpx: VPXCodec = codec == .vp8 ? .vp8 : .vp9
            var settings = VPXEncoderSettings(codec: vpx, width: width, height: height)
            settings.bitrateKbps = 800
            let encoder = try VPXEncoder(settings)
            let decoder = try VPXDecoder(codec: vpx)
            if codec == .vp8 {
                var packetizer = VP8Packetizer()
                var depacketizer = VP8Depacketizer()
                return Pipeline(
                    encode: { try encoder.encode($0, pts: Int64($1), forceKeyframe: $2) },
                    packetize: { try packetizer.packetize(bytes: $0, timestamp: $1) },
                    depacketize: { try depacketizer.push(payload: $0, sequenceNumber: $1, timestamp: $2, marker: $3) },
                    decode: { bytes, sink in _ = try decoder.decode(bytes, sink) })
            }
            var packetizer = VP9Packetizer()
            var depacketizer = VP9Depacketizer()
            return Pipeline(
                encode: { try encoder.encode($0, pts: Int64($1), forceKeyframe: $2) },
                packetize: { try packetizer.packetize(bytes: $0, timestamp: $1) },
                depacketize: { try depacketizer.push(payload: $0, sequenceNumber: $1, timestamp: $2, marker: $3) },
                decode: { bytes, sink in _ = try decoder.decode(bytes, sink) })
        case .av1:
            var settings = AV1EncoderSettings(width: width, height: height)
            settings.bitrateKbps = 800
            let encoder = try AV1Encoder(settings)
            let decoder = try AV1Decoder()
            var packetizer = AV1Packetizer()
            var depacketizer = AV1Depacketizer()
            return Pipeline(
                encode: { try encoder.encode($0, pts: Int64($1), forceKeyframe: $2) },
                packetize: { try packetizer.packetize(bytes: $0, timestamp: $1) },
                depacketize: { try depacketizer.push(payload: $0, sequenceNumber: $1, timestamp: $2, marker: $3) },
                decode: { bytes, sink in _ = try decoder.decode(bytes, sink) })
        case .h264:
            var settings = X264EncoderSettings(width: width, height: height)
            settings.bitrateKbps = 800
            let encoder = try X264Encoder(settings)
            let decoder = try H264Decoder()
            var packetizer = H264Packetizer()
            var depacketizer = H264Depacketizer()
            return Pipeline(
                encode: { try encoder.encode($0, pts: Int64($1), forceKeyframe: $2) },
                packetize: { try packetizer.packetize(bytes: $0, timestamp: $1) },
                depacketize: { try depacketizer.push(payload: $0, sequenceNumber: $1, timestamp: $2, marker: $3) },
                decode: { bytes, sink in _ = try decoder.decode(bytes, sink) })
        }
    }

    @Test(arguments: Video.allCases)
    func encodePacketizeDepacketizeDecode(codec: Video) throws {
        let width = 320
        let height = 240
        let frames = 30
        let pipeline = try Self.pipeline(codec, width: width, height: height)
        let video = SyntheticVideo(width: width, height: height)
        let source = try I420Frame(width: width, height: height)
        var sources: [UInt32: I420Frame] = [:]
        var psnr = PSNRAccumulator()
        var sequence: UInt16 = 65_500  // crosses the 16-bit wrap on the way
        var sentFrames = 0
        var decodedFrames = 0
        var maxPayload = 0

        for index in 0..<frames {
            try video.render(index, into: source)
            let kept = try I420Frame(width: width, height: height)
            try kept.copy(from: source.view())
            let forceKeyframe = index == 15
            for encoded in try pipeline.encode(source, index, forceKeyframe) {
                let timestamp = UInt32(encoded.pts) &* 3000
                sources[timestamp] = kept
                sentFrames += 1
                let packets = try pipeline.packetize(encoded.bytes, timestamp)
                #expect(packets.last?.marker == true)
                // Per-packet keyframe detection (what the SFU does on the forwarding path): the first
                // packet of a keyframe says so, the packets of a delta frame never do.
                let detected = packets.contains { codec.payloadCodec.isKeyframe(payload: $0.payload) }
                #expect(detected == encoded.isKeyframe, "\(codec) frame \(index): keyframe \(encoded.isKeyframe), detected \(detected)")
                if index == 0 || forceKeyframe { #expect(encoded.isKeyframe, "\(codec) frame \(index) should be a keyframe") }
                for packet in packets {
                    maxPayload = max(maxPayload, packet.payload.readableBytes)
                    let output = try pipeline.depacketize(packet.payload, sequence, timestamp, packet.marker)
                    sequence &+= 1
                    #expect(output.dropped.isEmpty)
                    for frame in output.frames {
                        #expect(frame.isKeyframe == encoded.isKeyframe)
                        try pipeline.decode(Array(frame.data.readableBytesView)) { picture in
                            guard let original = sources[frame.timestamp] else { return }
                            try? psnr.add(source: original.view(), decoded: picture)
                            decodedFrames += 1
                        }
                    }
                }
            }
        }
        #expect(maxPayload <= 1200)
        #expect(sentFrames >= frames - 2)
        #expect(decodedFrames >= sentFrames - 2, "\(codec): decoded \(decodedFrames) of \(sentFrames)")
        #expect(psnr.y >= codec.psnrFloor, "\(codec): Y-PSNR \(psnr.y) dB")
    }

    @Test func opusThroughRTPKeepsTheTone() throws {
        var settings = OpusEncoderSettings()
        settings.channels = 1
        let encoder = try OpusEncoder(settings)
        let decoder = try OpusDecoder(channels: 1)
        var packetizer = OpusPacketizer()
        var depacketizer = OpusDepacketizer()
        let audio = SyntheticAudio(channels: 1)
        var reference: [Int16] = []
        var decoded: [Int16] = []
        for index in 0..<50 {
            let block = audio.block(index, frameSize: 960)
            reference += block
            let encoded = try encoder.encode(block, pts: Int64(index))
            for packet in try packetizer.packetize(bytes: encoded.bytes, timestamp: UInt32(index * 960)) {
                let output = try depacketizer.push(payload: packet.payload, sequenceNumber: UInt16(index), timestamp: UInt32(index * 960), marker: packet.marker)
                for frame in output.frames { decoded += try decoder.decode(Array(frame.data.readableBytesView)) }
            }
        }
        #expect(decoded.count == reference.count)
        let level = AudioQuality.toneLevel(decoded, channel: 0, channels: 1, frequency: 440)
        let expected = AudioQuality.toneLevel(reference, channel: 0, channels: 1, frequency: 440)
        #expect(abs(level - expected) < 0.05, "tone level \(level) vs \(expected)")
    }
}
