import NIOCore
import NIOEmbedded
import SFUWire
import Testing
@testable import ICE

@Suite struct ICEUDPHandlerTests {
    let peer = socketAddress("203.0.113.7", 54321)

    func makeChannel(clock: ManualClock) throws -> (EmbeddedChannel, ICEUDPHandler<RecordingDelegate>) {
        let handler = ICEUDPHandler<RecordingDelegate>(clock: { clock.now })
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3478)).wait()
        return (channel, handler)
    }

    @Test func checkIsAnsweredThenMediaReachesTheDelegate() throws {
        let clock = ManualClock()
        let (channel, handler) = try makeChannel(clock: clock)
        let delegate = RecordingDelegate()
        _ = try handler.register(local: TestCredentials.server, remote: TestCredentials.client, delegate: delegate)

        // DTLS before any valid check: unknown source.
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(bytes: [22, 254, 253, 0])))
        #expect(handler.drops[.unknownSource] == 1)

        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: CheckBuilder(useCandidate: true).bytes))
        let out = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(out.remoteAddress == peer)
        let response = try STUNMessage(bytes: out.data)
        #expect(response.verifyMessageIntegrity(key: serverKey))
        #expect(response.xorMappedAddress == STUNAddress(peer))
        #expect(delegate.events.withLock { $0.selected } == [peer])

        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(bytes: [22, 254, 253, 0])))
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(bytes: [0x80, 96, 0, 1])))
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(bytes: [0x80, 200, 0, 1])))
        #expect(delegate.events.withLock { $0.packets.map(\.0) } == [.dtls, .rtp, .rtcp])
        _ = try channel.finish()
    }

    @Test func consentExpiryReachesTheDelegateFromTheRepeatedTick() throws {
        let clock = ManualClock()
        let (channel, handler) = try makeChannel(clock: clock)
        let delegate = RecordingDelegate()
        let session = try handler.register(local: TestCredentials.server, remote: TestCredentials.client, delegate: delegate)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: CheckBuilder(useCandidate: true).bytes))

        clock.set(seconds(29))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(delegate.events.withLock { $0.consentExpired } == 0)
        clock.set(seconds(30))
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(delegate.events.withLock { $0.consentExpired } == 1)
        // The delegate's owner removes the session; its address no longer routes.
        handler.remove(session)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: ByteBuffer(bytes: [22, 254, 253, 0])))
        #expect(handler.drops[.unknownSource] == 1)
        _ = try channel.finish()
    }

    @Test func fuzzedDatagramsNeverCrashAndAreAllAccountedFor() throws {
        let clock = ManualClock()
        let (channel, handler) = try makeChannel(clock: clock)
        let delegate = RecordingDelegate()
        _ = try handler.register(local: TestCredentials.server, remote: TestCredentials.client, delegate: delegate)
        try channel.writeInbound(AddressedEnvelope(remoteAddress: peer, data: CheckBuilder(useCandidate: true).bytes))
        _ = try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)

        var random = SplitMix64(state: 0xC0FF_EE00_1CE)
        let valid = Array(buffer: CheckBuilder(useCandidate: true).bytes)
        let sources = [peer] + (0..<3).map { socketAddress("198.51.100.\($0 + 1)", 4000) }
        let datagramCount = 20_000
        var responses = 0
        for _ in 0..<datagramCount {
            var bytes: [UInt8]
            switch random.next() % 4 {
            case 0:  // random bytes, any length up to an MTU
                bytes = (0..<Int(random.next() % 1500)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:  // a valid check, truncated
                bytes = Array(valid.prefix(Int(random.next() % UInt64(valid.count))))
            case 2:  // a valid check with a few bytes flipped
                bytes = valid
                for _ in 0..<(1 + random.next() % 4) {
                    bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8.random(in: 1...255, using: &random)
                }
            default:  // a STUN-looking header with a random body
                bytes = Array(valid.prefix(20)) + (0..<Int(random.next() % 200)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let source = sources[Int(random.next() % UInt64(sources.count))]
            try channel.writeInbound(AddressedEnvelope(remoteAddress: source, data: ByteBuffer(bytes: bytes)))
            while try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) != nil { responses += 1 }
        }
        let delivered = delegate.events.withLock { $0.packets.count }
        // Every datagram was answered, delivered to the session, or dropped and counted.
        #expect(UInt64(responses + delivered) + handler.drops.total == UInt64(datagramCount))
        #expect(handler.drops[.malformedSTUN] > 0)
        #expect(handler.drops[.unclassifiable] > 0)
        #expect(handler.drops[.unknownSource] > 0)
        _ = try channel.finish()
    }
}
