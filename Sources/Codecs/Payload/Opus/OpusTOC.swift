import NIOCore

/// The Opus TOC byte (RFC 6716 §3.1): `config(5) | s(1) | c(2)`.
public struct OpusTOC: Hashable, Sendable {
    public enum Mode: String, Sendable, Hashable { case silk, hybrid, celt }
    public enum Bandwidth: String, Sendable, Hashable { case narrowband, mediumband, wideband, superWideband, fullband }

    public var byte: UInt8

    public init(_ byte: UInt8) { self.byte = byte }

    /// Configuration number 0...31 (RFC 6716 §3.1, Table 2).
    public var config: Int { Int(byte >> 3) }
    /// The `s` bit: stereo.
    public var isStereo: Bool { byte & 0x04 != 0 }
    /// The frame count code `c` (0: one frame, 1: two equal, 2: two different sizes, 3: arbitrary).
    public var frameCountCode: Int { Int(byte & 0x03) }

    public var mode: Mode {
        switch config {
        case 0...11: .silk
        case 12...15: .hybrid
        default: .celt
        }
    }

    public var bandwidth: Bandwidth {
        switch config {
        case 0...3: .narrowband
        case 4...7: .mediumband
        case 8...11: .wideband
        case 12...13: .superWideband
        case 14...15: .fullband
        case 16...19: .narrowband
        case 20...23: .wideband
        case 24...27: .superWideband
        default: .fullband
        }
    }

    /// Duration of one frame in 48 kHz samples (RFC 6716 §3.1, Table 2): SILK 10/20/40/60 ms,
    /// Hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
    public var samplesPerFrame: Int {
        switch mode {
        case .silk: [480, 960, 1920, 2880][config & 3]
        case .hybrid: [480, 960][config & 1]
        case .celt: [120, 240, 480, 960][config & 3]
        }
    }
}

/// What the Opus packet (one RTP payload, RFC 7587 §4.2) says about itself: TOC and frame count,
/// checked against RFC 6716 §3.4 rules R1, R3, R5 and R6 (frame lengths of code 2/3 are not
/// walked). Never allocates.
public struct OpusPacketInfo: Hashable, Sendable {
    public var toc: OpusTOC
    /// Frames in the packet (1...48).
    public var frameCount: Int
    /// Code 3 only: variable-bitrate flag.
    public var isVBR: Bool
    /// Code 3 only: padding present.
    public var hasPadding: Bool

    /// Total duration in 48 kHz samples (≤ 5760, i.e. 120 ms).
    public var samples: Int { toc.samplesPerFrame * frameCount }

    public init(payload: ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(payload)
        // R1: at least one byte.
        toc = OpusTOC(try reader.u8("Opus TOC"))
        isVBR = false
        hasPadding = false
        switch toc.frameCountCode {
        case 0:
            frameCount = 1
        case 1:
            // R3: code 1 carries two frames of equal size, so N-1 is even.
            guard (payload.readableBytes - 1) % 2 == 0 else {
                throw PayloadError(.invalidTOC, offset: 0, detail: "code 1 with odd payload length")
            }
            frameCount = 2
        case 2:
            // R4 needs the first frame length byte at least.
            guard reader.remaining >= 1 else { throw PayloadError(.truncated, offset: 1, detail: "code 2 frame length") }
            frameCount = 2
        default:
            let countByte = try reader.u8("code 3 frame count")
            frameCount = Int(countByte & 0x3F)
            isVBR = countByte & 0x80 != 0
            hasPadding = countByte & 0x40 != 0
            // R5: at least one frame, at most 120 ms.
            guard frameCount >= 1, toc.samplesPerFrame * frameCount <= 5760 else {
                throw PayloadError(.invalidTOC, offset: 1, detail: "code 3 frame count out of range")
            }
        }
    }
}
