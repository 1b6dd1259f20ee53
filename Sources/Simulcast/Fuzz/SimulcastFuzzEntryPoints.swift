/// libFuzzer entry point for ``VP8PictureMunger``: the input is a run of VP8 payloads
/// (`len:u8 switch:u8 payload[len]`, bit 0 of `switch` starts a new segment), each rewritten in
/// place behind a 12-byte RTP header as the forwarding path does. It must never trap or write
/// outside the packet, whatever the descriptor says.
public func fuzzVP8PictureMunger(_ bytes: UnsafeRawBufferPointer) {
    var munger = VP8PictureMunger()
    var index = 0
    var packets = 0
    var packet = [UInt8](repeating: 0, count: 12 + 255)
    while index + 2 <= bytes.count, packets < 512 {
        let length = min(Int(bytes[index]), bytes.count - index - 2)
        if bytes[index + 1] & 1 != 0 { munger.markSwitch() }
        for offset in 0..<length { packet[12 + offset] = bytes[index + 2 + offset] }
        packet.withUnsafeMutableBytes { raw in
            _ = munger.rewrite(UnsafeMutableRawBufferPointer(rebasing: raw[0..<(12 + length)]), payloadOffset: 12)
        }
        index += 2 + length
        packets += 1
    }
}
