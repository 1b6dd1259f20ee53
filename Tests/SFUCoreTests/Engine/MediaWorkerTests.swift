import ICE
import NIOCore
import NIOPosix
import SFUWire
import Testing
@testable import SFUCore

@Suite("MediaWorker", .serialized)
struct MediaWorkerTests {
    /// Random datagrams whose first byte is spread over every RFC 7983 range.
    static func garbage(count: Int, firstBytes: ClosedRange<UInt8>, using generator: inout some RandomNumberGenerator) -> [ByteBuffer] {
        (0..<count).map { _ in
            let length = Int.random(in: 0...1400, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !bytes.isEmpty { bytes[0] = UInt8.random(in: firstBytes, using: &generator) }
            return ByteBuffer(bytes: bytes)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func garbageNeverBreaksTheWorker() async throws {
        let setup = try await RouterTests.Setup.make()
        let (publisher, publisherTransport) = try await setup.peer()
        let (subscriber, subscriberTransport) = try await setup.peer()
        let ssrc = RouterTests.publisherSSRC
        let producer = try await publisherTransport.produce(kind: .video, parameters: RTPParameters(
            codecs: [RouterTests.vp8], encodings: [.init(ssrc: ssrc)]))
        _ = try await subscriberTransport.consume(producer: producer, codecs: [RouterTests.vp8])

        var generator = SystemRandomNumberGenerator()
        // 1. A stranger: every class of first byte, none from a validated address.
        let address = try #require(setup.worker.localAddress)
        let stranger = try await MediaTestPeer(group: setup.group, server: address)
        for datagram in Self.garbage(count: 400, firstBytes: 0...255, using: &generator) { stranger.send(datagram) }
        // 2. The validated publisher: unauthenticated RTP/RTCP-looking bytes (SRTP refuses them).
        for datagram in Self.garbage(count: 300, firstBytes: 128...191, using: &generator) { publisher.send(datagram) }
        // 3. Authenticated but wrong: bad padding, unknown SSRC and payload type, broken and
        //    foreign RTCP.
        let srtp = try #require(publisher.srtp)
        var badPadding = ByteBuffer(bytes: [0xA0, 96, 0, 9, 0, 0, 0, 0] + withUnsafeBytes(of: ssrc.bigEndian, Array.init) + [1, 2, 255])
        try srtp.protect(rtp: &badPadding)
        publisher.send(badPadding)
        try publisher.sendRTP(payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 0xBAD, payload: [0x10, 0])
        try publisher.sendRTP(payloadType: 50, sequenceNumber: 2, timestamp: 0, ssrc: ssrc, payload: [0x10, 0])
        var brokenRTCP = ByteBuffer(bytes: [0x81, 205, 0x00, 0xFF, 0, 0, 0, 1, 0, 0, 0, 2])
        try srtp.protectRTCP(rtcp: &brokenRTCP)
        publisher.send(brokenRTCP)
        try publisher.sendRTCP([
            .nack(RTCPNack(senderSSRC: 1, mediaSSRC: 0xFFFF, lostSequenceNumbers: [1, 2, 3])),
            .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 0xEEEE)),
        ])
        #expect(await waitUntil { true })
        #expect(await setup.worker.iceDropCount() > 0)

        // Forwarding still works: a keyframe reaches the subscriber.
        try publisher.sendRTP(
            payloadType: 96, sequenceNumber: 10, timestamp: 90_000, ssrc: ssrc,
            payload: RouterTests.vp8Payload(index: 7, keyframe: true))
        #expect(await waitUntil {
            subscriber.pump()
            return subscriber.rtp.count == 1
        })
        #expect(await publisherTransport.currentState() == .connected)
        await stranger.close()
        try await setup.shutdown([publisher, subscriber])
    }

    @Test(.timeLimit(.minutes(1)))
    func closingTransportsAndRoutersReleasesSessions() async throws {
        let setup = try await RouterTests.Setup.make()
        let (peer, transport) = try await setup.peer()
        let producer = try await transport.produce(kind: .audio, parameters: RTPParameters(
            codecs: [RTPCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48_000, channels: 2)],
            encodings: [.init(ssrc: 42)]))
        await transport.close()
        #expect(await transport.currentState() == .closed)
        await #expect(throws: SFUError.self) {
            _ = try await transport.consume(producer: producer, codecs: [])
        }
        let other = try await setup.router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        await setup.router.close()
        #expect(await other.currentState() == .closed)
        await #expect(throws: SFUError.self) {
            _ = try await setup.router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        }
        try await setup.shutdown([peer])
    }

    @Test(.timeLimit(.minutes(1)))
    func consumersBeyondTheRetransmissionBudgetAreRefusedWithLimitExceeded() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Less than one ring's first slots: every video consumer (which needs a ring) is refused.
        let worker = try await MediaWorker.start(
            configuration: .init(host: "127.0.0.1", port: 0, retransmissionBudgetBytes: 1000), eventLoop: group.next())
        let router = try await worker.createRouter()
        let publisher = try await router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        let subscriber = try await router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        let video = try await publisher.produce(kind: .video, parameters: RTPParameters(
            codecs: [RouterTests.vp8], encodings: [.init(ssrc: 7)]))
        do {
            _ = try await subscriber.consume(producer: video, codecs: [RouterTests.vp8])
            Issue.record("a consumer was created beyond the budget")
        } catch {
            #expect(error.code == .limitExceeded)
            #expect(error.code.description == "limit_exceeded")
        }
        // Audio without NACK keeps no ring and is not affected.
        let opus = RTPCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48_000, channels: 2)
        let audio = try await publisher.produce(kind: .audio, parameters: RTPParameters(codecs: [opus], encodings: [.init(ssrc: 8)]))
        _ = try await subscriber.consume(producer: audio, codecs: [opus])
        #expect(worker.retransmissionBudget.usedBytes == 0)
        await router.close()
        await worker.close()
        try await group.shutdownGracefully()
    }

    @Test(.timeLimit(.minutes(1)))
    func consumeRejectsIncompatibleCodecs() async throws {
        let setup = try await RouterTests.Setup.make()
        let publisher = try await setup.router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        let subscriber = try await setup.router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        let producer = try await publisher.produce(kind: .video, parameters: RTPParameters(
            codecs: [RTPCodecParameters(mimeType: "video/H264", payloadType: 102, clockRate: 90_000,
                                        parameters: ["packetization-mode": "1", "profile-level-id": "42e01f"])]))
        do {
            _ = try await subscriber.consume(producer: producer, codecs: [
                RTPCodecParameters(mimeType: "video/H264", payloadType: 125, clockRate: 90_000,
                                   parameters: ["packetization-mode": "0", "profile-level-id": "42e01f"]),
            ])
            Issue.record("consume should fail")
        } catch {
            #expect(error.code == .noCompatibleCodec)
        }
        let consumer = try await subscriber.consume(producer: producer, codecs: [
            RTPCodecParameters(mimeType: "video/h264", payloadType: 127, clockRate: 90_000,
                               parameters: ["packetization-mode": "1", "profile-level-id": "42e034"]),
        ])
        #expect(consumer.rtpParameters.codecs.map(\.payloadType) == [127])
        do {
            _ = try await publisher.produce(kind: .video, parameters: RTPParameters(codecs: []))
            Issue.record("produce should fail")
        } catch {
            #expect(error.code == .invalidParameters)
        }
        try await setup.shutdown([])
    }
}
