// The CommuCat side: the owners of module Codecs (and CodecsGPL's x264), timed around the
// encode and decode calls only. Generating the synthetic pictures is not timed.
import Codecs
import CodecsGPL

/// Measures one codec through the Swift owners.
struct CommuCatRunner {
    let config: CodecBenchConfig
    let progress: BenchProgress

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func run(_ codec: BenchCodec) throws -> CodecMeasurement {
        codec == .opus ? try runOpus() : try runVideo(codec)
    }

    /// A video encoder behind one closure so every codec shares the loop below.
    private func makeEncoder(_ codec: BenchCodec) throws -> (I420Frame, Int64) throws -> [EncodedFrame] {
        switch codec {
        case .vp8, .vp9:
            var settings = VPXEncoderSettings(codec: codec == .vp8 ? .vp8 : .vp9, width: config.width, height: config.height)
            settings.bitrateKbps = config.bitrateKbps
            settings.framerate = config.framerate
            settings.threads = config.threads
            settings.keyframeInterval = config.keyframeInterval
            settings.cpuUsed = codec == .vp8 ? config.vp8CpuUsed : config.vp9CpuUsed
            let encoder = try VPXEncoder(settings)
            return { frame, pts in try encoder.encode(frame, pts: pts) }
        case .av1:
            var settings = AV1EncoderSettings(width: config.width, height: config.height)
            settings.bitrateKbps = config.bitrateKbps
            settings.framerate = config.framerate
            settings.threads = config.threads
            settings.keyframeInterval = config.keyframeInterval
            settings.cpuUsed = config.aomCpuUsed
            let encoder = try AV1Encoder(settings)
            return { frame, pts in try encoder.encode(frame, pts: pts) }
        case .h264, .opus:
            var settings = X264EncoderSettings(width: config.width, height: config.height)
            settings.bitrateKbps = config.bitrateKbps
            settings.framerate = config.framerate
            settings.threads = config.threads
            settings.keyframeInterval = config.keyframeInterval
            settings.preset = config.x264Preset
            let encoder = try X264Encoder(settings)
            return { frame, pts in try encoder.encode(frame, pts: pts) }
        }
    }

    /// A decoder as (decode one frame, drain at the end).
    private func makeDecoder(_ codec: BenchCodec) throws -> (decode: ([UInt8], Int64, (I420View) -> Void) throws -> Void, flush: ((I420View) -> Void) throws -> Void) {
        switch codec {
        case .vp8, .vp9:
            let decoder = try VPXDecoder(codec: codec == .vp8 ? .vp8 : .vp9, threads: config.threads)
            return ({ bytes, pts, body in try decoder.decode(bytes, pts: pts, body) }, { _ in })
        case .av1:
            // Frame delay left to dav1d, as ffmpeg's libdav1d wrapper does by default.
            let decoder = try AV1Decoder(threads: config.threads, maxFrameDelay: 0)
            return ({ bytes, pts, body in try decoder.decode(bytes, pts: pts, body) }, { body in try decoder.flush(body) })
        case .h264, .opus:
            let decoder = try H264Decoder(threads: 1)
            return ({ bytes, pts, body in try decoder.decode(bytes, pts: pts, body) }, { _ in })
        }
    }

    private func runVideo(_ codec: BenchCodec) throws -> CodecMeasurement {
        let video = SyntheticVideo(width: config.width, height: config.height)
        let source = try I420Frame(width: config.width, height: config.height)
        let encode = try makeEncoder(codec)
        let clock = ContinuousClock()
        var encodeTime = Duration.zero
        var stream: [EncodedFrame] = []
        stream.reserveCapacity(config.frames)
        for index in 0..<config.frames {
            try video.render(index, into: source)
            let start = clock.now
            stream += try encode(source, Int64(index))
            encodeTime += clock.now - start
            progress.update("\(codec.rawValue) encode", Double(index + 1) / Double(config.frames) / 3)
        }
        // Timed decode pass: nothing but the decoder.
        var decoded = 0
        let decoder = try makeDecoder(codec)
        let start = clock.now
        for frame in stream { try decoder.decode(frame.bytes, frame.pts) { _ in decoded += 1 } }
        try decoder.flush { _ in decoded += 1 }
        let decodeTime = clock.now - start
        progress.update("\(codec.rawValue) decode", 2.0 / 3)
        // Untimed quality pass: a fresh decoder, each picture against its regenerated source.
        var psnr = PSNRAccumulator()
        let checker = try makeDecoder(codec)
        let reference = try I420Frame(width: config.width, height: config.height)
        var failure: (any Error)?
        let compare: (I420View) -> Void = { picture in
            do {
                try video.render(Int(picture.pts), into: reference)
                try psnr.add(source: reference.view(), decoded: picture)
            } catch { failure = error }
        }
        for (index, frame) in stream.enumerated() {
            try checker.decode(frame.bytes, frame.pts, compare)
            progress.update("\(codec.rawValue) PSNR", 2.0 / 3 + Double(index + 1) / Double(stream.count) / 3)
        }
        try checker.flush(compare)
        if let failure { throw failure }
        guard decoded == config.frames else {
            throw BenchError(code: "frames_lost", "\(codec.rawValue): decoded \(decoded) of \(config.frames) frames")
        }
        let bytes = stream.reduce(0) { $0 + $1.bytes.count }
        return CodecMeasurement(
            encodeFPS: Double(config.frames) / seconds(encodeTime),
            decodeFPS: Double(decoded) / seconds(decodeTime),
            bitrateKbps: Double(bytes * 8) * Double(config.framerate) / Double(config.frames) / 1_000,
            psnrY: psnr.y, psnr: psnr.overall, frames: config.frames)
    }

    private func runOpus() throws -> CodecMeasurement {
        var settings = OpusEncoderSettings()
        settings.channels = 2
        settings.bitrate = config.audioBitrateKbps * 1_000
        let encoder = try OpusEncoder(settings)
        let audio = SyntheticAudio(channels: 2)
        let clock = ContinuousClock()
        var encodeTime = Duration.zero
        var reference: [Int16] = []
        var packets: [EncodedFrame] = []
        let count = config.audioPackets
        for index in 0..<count {
            let block = audio.block(index, frameSize: settings.frameSize)
            reference += block
            let start = clock.now
            packets.append(try encoder.encode(block, pts: Int64(index * settings.frameSize)))
            encodeTime += clock.now - start
            if index % 50 == 0 { progress.update("opus encode", Double(index + 1) / Double(count) / 2) }
        }
        let decoder = try OpusDecoder(channels: 2)
        var decoded: [Int16] = []
        decoded.reserveCapacity(reference.count)
        let start = clock.now
        for packet in packets { decoded += try decoder.decode(packet.bytes) }
        let decodeTime = clock.now - start
        progress.update("opus SNR", 1)
        let snr = AudioQuality.snr(reference: reference, decoded: decoded, channels: 2)
        let bytes = packets.reduce(0) { $0 + $1.bytes.count }
        return CodecMeasurement(
            encodeFPS: Double(count) / seconds(encodeTime), decodeFPS: Double(count) / seconds(decodeTime),
            bitrateKbps: Double(bytes * 8) / (Double(count) * 0.02) / 1_000,
            psnrY: snr.db, psnr: snr.db, frames: count)
    }
}
