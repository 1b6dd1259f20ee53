import Codecs
import Foundation
import Testing

@Suite struct OpusTests {
    static func settings(channels: Int = 2, fec: Bool = false) -> OpusEncoderSettings {
        var settings = OpusEncoderSettings()
        settings.channels = channels
        settings.bitrate = fec ? 24_000 : 64_000
        settings.inbandFEC = fec
        settings.packetLossPercent = fec ? 20 : 0
        return settings
    }

    @Test(arguments: [1, 2])
    func roundTripKeepsTheTone(channels: Int) throws {
        let encoder = try OpusEncoder(Self.settings(channels: channels))
        let decoder = try OpusDecoder(channels: channels)
        let audio = SyntheticAudio(channels: channels)
        var reference: [Int16] = [], decoded: [Int16] = []
        for block in 0..<50 {
            let pcm = audio.block(block, frameSize: 960)
            reference += pcm
            let packet = try encoder.encode(pcm, pts: Int64(block * 960))
            #expect(packet.bytes.count > 10 && packet.bytes.count < 1_275)
            let out = try decoder.decode(packet.bytes)
            #expect(out.count == 960 * channels)
            decoded += out
        }
        for channel in 0..<channels {
            let level = AudioQuality.toneLevel(Array(decoded[(20 * 960 * channels)...]), channel: channel, channels: channels, frequency: 440)
            #expect(abs(level - 0.3) < 0.03, "440 Hz level \(level)")
        }
        let (snr, lag) = AudioQuality.snr(reference: reference, decoded: decoded, channels: channels)
        #expect(snr > 10, "SNR \(snr) at lag \(lag)")
    }

    /// SILK codes FEC (LBRR) only for frames its VAD calls speech, and a steady tone soon counts as
    /// background: this test feeds talk-like bursts (a gliding 8-harmonic voice, 600 ms on, 400 ms off).
    static func voiced(_ block: Int) -> [Int16] {
        (0..<960).map { i in
            let t = Double(block * 960 + i) / 48_000
            let envelope = (block % 10) < 6 ? 1.0 : 0.02
            let f0 = 140 + 30 * sin(2 * .pi * 1.5 * t)
            var value = 0.0
            for harmonic in 1...8 { value += sin(2 * .pi * f0 * Double(harmonic) * t) / Double(harmonic) }
            return Int16(clamping: Int(envelope * value * 8_000) + ((block * 960 + i) * 7_919) % 200 - 100)
        }
    }

    @Test func lostPacketIsRecoveredFromInBandFEC() throws {
        let encoder = try OpusEncoder(Self.settings(channels: 1, fec: true))
        var packets: [[UInt8]] = []
        for block in 0..<25 { packets.append(try encoder.encode(Self.voiced(block), pts: Int64(block * 960)).bytes) }
        let lost = 20
        // Three decoders see packets 0..<20; then the clean one decodes 20, the recovering one
        // rebuilds 20 from packet 21's FEC, the concealing one has nothing (PLC).
        let clean = try OpusDecoder(channels: 1), recovering = try OpusDecoder(channels: 1), concealing = try OpusDecoder(channels: 1)
        for index in 0..<lost {
            for decoder in [clean, recovering, concealing] { _ = try decoder.decode(packets[index]) }
        }
        let cleanBlock = try clean.decode(packets[lost])
        let fecBlock = try recovering.concealLoss(frameSize: 960, nextPacket: packets[lost + 1])
        let plcBlock = try concealing.concealLoss(frameSize: 960)
        #expect(fecBlock.count == 960 && plcBlock.count == 960)
        let fecError = zip(fecBlock, cleanBlock).reduce(0.0) { $0 + pow2(Double($1.0) - Double($1.1)) }
        let plcError = zip(plcBlock, cleanBlock).reduce(0.0) { $0 + pow2(Double($1.0) - Double($1.1)) }
        let energy = cleanBlock.reduce(0.0) { $0 + pow2(Double($1)) }
        #expect(fecError < plcError, "FEC recovery should beat plain concealment")
        #expect(fecError < energy / 2, "FEC output should resemble the lost audio")
        // The next packet still decodes normally after the recovery.
        #expect(try recovering.decode(packets[lost + 1]).count == 960)
    }

    @Test func badInputThrows() throws {
        var settings = Self.settings()
        settings.channels = 3
        #expect(throws: CodecError.self) { try OpusEncoder(settings) }
        settings = Self.settings()
        settings.frameSize = 1_000
        #expect(throws: CodecError.self) { try OpusEncoder(settings) }
        let encoder = try OpusEncoder(Self.settings())
        let error = #expect(throws: CodecError.self) { try encoder.encode([Int16](repeating: 0, count: 100), pts: 0) }
        #expect(error?.code == .invalidFrameSize)
        let decoder = try OpusDecoder(channels: 2)
        #expect(throws: CodecError.self) { try decoder.decode([]) }
        #expect(throws: CodecError.self) { try decoder.concealLoss(frameSize: 7) }
        // RFC 6716 §3.2.5: code 3 with a frame count of 0 is invalid.
        let invalid = #expect(throws: CodecError.self) { try decoder.decode([0x03, 0x00]) }
        #expect(invalid?.code == .decodeFailed)
        #expect(throws: CodecError.self) { try OpusDecoder(channels: 0) }
    }
}

private func pow2(_ x: Double) -> Double { x * x }
