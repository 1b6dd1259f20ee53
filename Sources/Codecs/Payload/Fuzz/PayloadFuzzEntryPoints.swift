import NIOCore

// libFuzzer entry points for the payload formats: a fuzz executable's `LLVMFuzzerTestOneInput`
// calls one of these with the input bytes. Depacketizer entry points read the input as a packet
// sequence: `len:u8 flags:u8 payload[len]` repeated, where flags bit 0 is the marker bit and
// bits 1-3 a sequence-number step minus one (so losses and duplicates happen); a short tail is
// one final payload. None of them traps on bad input: a crash is a bug.

private func buffer(_ bytes: UnsafeRawBufferPointer) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    return buffer
}

/// Splits fuzz input into (payload, sequence number, timestamp, marker) packets.
func fuzzPackets(_ input: ByteBuffer) -> [(payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool)] {
    var packets: [(ByteBuffer, UInt16, UInt32, Bool)] = []
    var rest = input
    var sequence: UInt16 = 0xFFF0
    var timestamp: UInt32 = 0
    while rest.readableBytes > 0, packets.count < 512 {
        guard let length = rest.readInteger(as: UInt8.self), let flags = rest.readInteger(as: UInt8.self) else { break }
        let payload = rest.readSlice(length: min(Int(length), rest.readableBytes)) ?? ByteBuffer()
        let step = UInt16(flags >> 1 & 0x07)
        sequence &+= step  // step 0 repeats a sequence number
        let marker = flags & 1 != 0
        packets.append((payload, sequence, timestamp, marker))
        if marker || flags & 0x10 != 0 { timestamp &+= 3000 }
        sequence &+= 1
    }
    return packets
}

private func runDepacketizer<D: RTPDepacketizer>(_ depacketizer: inout D, _ bytes: UnsafeRawBufferPointer) {
    for packet in fuzzPackets(buffer(bytes)) {
        guard let output = try? depacketizer.push(
            payload: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker
        ) else { continue }
        for frame in output.frames { _ = (frame.data.readableBytes, frame.isKeyframe, frame.packetCount) }
    }
}

/// Opus TOC parse and depacketizing.
public func fuzzOpus(_ bytes: UnsafeRawBufferPointer) {
    _ = try? OpusPacketInfo(payload: buffer(bytes))
    var depacketizer = OpusDepacketizer()
    runDepacketizer(&depacketizer, bytes)
}

/// VP8 descriptor parse, re-encode, rewrite, keyframe test, frame header, depacketizing.
public func fuzzVP8(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    var rest = input
    if let descriptor = try? VP8PayloadDescriptor(parsing: &rest) {
        var out = ByteBuffer()
        descriptor.write(to: &out)
        out.writeImmutableBuffer(rest)
        _ = try? VP8PayloadDescriptor(parsing: &out)
        var copy = input
        try? VP8PayloadDescriptor.rewrite(&copy, descriptorAt: copy.readerIndex, pictureID: 0x1234, tl0PictureIndex: 7)
        _ = try? VP8FrameHeader(frame: rest)
    }
    _ = VideoPayloadCodec.vp8.isKeyframe(payload: input)
    _ = VideoPayloadCodec.vp8.keyframeResolution(payload: input)
    var depacketizer = VP8Depacketizer()
    runDepacketizer(&depacketizer, bytes)
}

/// VP9 descriptor (with SS) parse, re-encode, rewrite, keyframe test, depacketizing.
public func fuzzVP9(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    var rest = input
    if let descriptor = try? VP9PayloadDescriptor(parsing: &rest) {
        var out = ByteBuffer()
        descriptor.write(to: &out)
        _ = try? VP9PayloadDescriptor(parsing: &out)
        var copy = input
        try? VP9PayloadDescriptor.rewrite(&copy, descriptorAt: copy.readerIndex, pictureID: 0x1234, tl0PictureIndex: 7)
        _ = try? VP9FrameHeader(frame: rest)
    }
    _ = VideoPayloadCodec.vp9.isKeyframe(payload: input)
    _ = VideoPayloadCodec.vp9.keyframeResolution(payload: input)
    var depacketizer = VP9Depacketizer()
    runDepacketizer(&depacketizer, bytes)
}

/// H.264 packet inspection, Annex B split, depacketizing.
public func fuzzH264(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    _ = try? H264PacketInfo(payload: input)
    _ = H264AnnexB.nalUnits(in: input)
    var packetizer = H264Packetizer(maxPayloadSize: 64)
    _ = try? packetizer.packetize(frame: input)
    var depacketizer = H264Depacketizer()
    runDepacketizer(&depacketizer, bytes)
}

/// AV1 aggregation header walk, low-overhead parse, packetizing and depacketizing.
public func fuzzAV1(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    _ = VideoPayloadCodec.av1.isKeyframe(payload: input)
    _ = try? AV1AggregationHeader.forEachElement(in: input) { element, _, _ in _ = try? AV1OBUHeader(bytes: element) }
    if let obus = try? AV1OBU.parseLowOverhead(input) {
        var out = ByteBuffer()
        for obu in obus { obu.writeLowOverhead(to: &out) }
        var packetizer = AV1Packetizer(maxPayloadSize: 64)
        _ = try? packetizer.packetize(frame: input)
    }
    var depacketizer = AV1Depacketizer()
    runDepacketizer(&depacketizer, bytes)
}

/// Dependency descriptor parse (with and without a known structure) and re-encode.
public func fuzzDependencyDescriptor(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    guard let descriptor = try? DependencyDescriptor(parsing: input, structure: nil) else { return }
    let structure = descriptor.attachedStructure
    if let structure {
        _ = structure.decodeTargetLayers
        for target in 0..<structure.decodeTargetCount {
            _ = descriptor.isSwitchPoint(for: target, in: structure)
        }
        _ = (descriptor.frameDiffs(in: structure), descriptor.chainDiffs(in: structure), descriptor.layer(in: structure))
    }
    var out = ByteBuffer()
    if (try? descriptor.write(to: &out, structure: structure)) != nil {
        _ = try? DependencyDescriptor(parsing: out, structure: structure)
    }
}

/// RED parse and re-encode.
public func fuzzRED(_ bytes: UnsafeRawBufferPointer) {
    let input = buffer(bytes)
    _ = try? REDPayload.primaryBlock(in: input)
    guard let payload = try? REDPayload(parsing: input) else { return }
    var out = ByteBuffer()
    if (try? payload.write(to: &out)) != nil { _ = try? REDPayload(parsing: out) }
}
