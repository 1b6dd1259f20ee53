import NIOCore

// libFuzzer entry points: a fuzz executable's `LLVMFuzzerTestOneInput` calls one of these with the
// input bytes. Each parses, reads every accessor, and on success re-encodes and parses again, so
// sanitizers see the whole surface. None of them traps on bad input: a crash is a bug.

private func buffer(_ bytes: UnsafeRawBufferPointer) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    return buffer
}

/// RFC 7983 demultiplexing.
public func fuzzDemux(_ bytes: UnsafeRawBufferPointer) {
    _ = PacketClass(classifying: buffer(bytes))
}

/// STUN parse, attribute walk, integrity and fingerprint checks, re-encode.
public func fuzzSTUN(_ bytes: UnsafeRawBufferPointer) {
    var input = buffer(bytes)
    guard let message = try? STUNMessage(parsing: &input) else { return }
    for attribute in message.attributes { _ = attribute.value.readableBytes }
    _ = (message.username, message.xorMappedAddress, message.errorCode, message.priority)
    _ = (message.iceControlling, message.iceControlled, message.useCandidate, message.unknownComprehensionRequiredTypes)
    let key = STUNCredentials.shortTermKey(password: "fuzz")
    _ = message.verifyMessageIntegrity(key: key)
    _ = message.verifyMessageIntegritySHA256(key: key)
    _ = message.hasValidFingerprint
    var out = ByteBuffer()
    if let address = message.xorMappedAddress {
        STUNMessage.writeBindingSuccess(to: &out, transactionID: message.transactionID, mappedAddress: address, integrityKey: key)
        _ = try? STUNMessage(parsing: &out)
    }
}

/// RTP parse, header fields, extensions, in-place rewrite.
public func fuzzRTP(_ bytes: UnsafeRawBufferPointer) {
    guard var packet = try? RTPPacket(buffer: buffer(bytes)) else { return }
    _ = (packet.marker, packet.payloadType, packet.sequenceNumber, packet.timestamp, packet.ssrc)
    for index in 0..<packet.csrcCount { _ = packet.csrc(at: index) }
    for element in packet.extensions {
        _ = packet.extensionValue(id: element.id)
        _ = packet.setExtensionValue(id: element.id, to: repeatElement(UInt8(0xAB), count: element.length))
    }
    _ = packet.payload.readableBytes
    packet.rewrite(ssrc: 1, sequenceNumber: 2, timestamp: 3, payloadType: 96)
    _ = try? RTPPacket(buffer: packet.buffer)
}

/// RTCP compound parse and re-encode of every packet.
public func fuzzRTCP(_ bytes: UnsafeRawBufferPointer) {
    var iterator = RTCPCompoundIterator(buffer(bytes))
    var out = ByteBuffer()
    while let packet = try? iterator.next() {
        packet.write(to: &out)
        if case .nack(let nack) = packet { _ = nack.lostSequenceNumbers }
    }
    _ = try? RTCPCompoundIterator.parseAll(out)
}

/// SDP parse and serialise.
public func fuzzSDP(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let description = try? SessionDescription(parsing: text) else { return }
    _ = try? SessionDescription(parsing: description.serialized)
}

/// RFC 4571 stream decoding.
public func fuzzRFC4571(_ bytes: UnsafeRawBufferPointer) {
    var input = buffer(bytes)
    var decoder = RFC4571FrameDecoder()
    while let frame = try? decoder.decode(buffer: &input) { _ = frame.readableBytes }
}

/// Trickle fragment and single candidate parsing (WHIP PATCH bodies).
public func fuzzSDPFragment(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let fragment = try? SDPFragment(parsing: text) { _ = try? SDPFragment(parsing: fragment.serialized) }
    if let candidate = try? SDPCandidate(parsing: text) { _ = try? SDPCandidate(parsing: candidate.attributeText) }
}
