import NIOCore

/// libFuzzer-style entry point: decodes frames from `bytes` until the decoder needs more data or
/// throws. Must never crash; every failure is a `CCPError`.
public func fuzzCCPFrameDecoder(_ bytes: UnsafeRawBufferPointer) {
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = CCPFrameDecoder()
    // Each frame consumes at least 2 bytes, so this bound is never the one that stops the loop.
    for _ in 0...bytes.count {
        do {
            guard case .frame(let frame) = try decoder.decode(buffer: &buffer) else { return }
            // Re-encoding what was decoded must reproduce a frame of the same size.
            var encoded = ByteBuffer()
            let written = frame.write(to: &encoded)
            precondition(written == frame.encodedSize, "encodedSize disagrees with write(to:)")
        } catch {
            return
        }
    }
}

/// libFuzzer-style entry point: feeds `bytes` to a CCP-1 server-side Noise responder with a fixed
/// static key. The first byte picks the pattern (even: XK, odd: IK); the rest is message 1. If
/// message 1 authenticates, the responder answers and, for XK, the same bytes are offered as
/// message 3. Must never crash; every failure is a `CCPError`.
public func fuzzNoiseResponder(_ bytes: UnsafeRawBufferPointer) {
    guard let selector = bytes.first else { return }
    let pattern: NoisePattern = selector % 2 == 0 ? .xk : .ik
    let message = [UInt8](bytes.dropFirst())
    // A fixed, public key: fuzzing needs determinism, not secrecy.
    guard let responderStatic = try? NoiseKeyPair(privateKeyBytes: [UInt8](repeating: 0x42, count: 32)) else { return }
    let configuration = NoiseHandshakeConfiguration(
        pattern: pattern,
        role: .responder,
        prologue: Array("commucat".utf8),
        localStatic: responderStatic
    )
    do {
        var handshake = try NoiseHandshakeState(configuration: configuration)
        _ = try handshake.readMessage(message)
        _ = try handshake.writeMessage(payload: [])
        if handshake.expectation == .readMessage {
            _ = try handshake.readMessage(message)
        }
    } catch {
        return
    }
}
