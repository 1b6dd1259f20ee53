import ICE
import NIOCore
import NIOPosix
import SFUWire
import Testing
@testable import SFUCore

/// End to end over real UDP on 127.0.0.1: a worker and router, one publisher and subscribers
/// built from the project's own STUN, DTLS and SRTP code.
@Suite("Router loopback", .serialized)
struct RouterTests {
    static let publisherSSRC: UInt32 = 0x1111_0000
    static let vp8 = RTPCodecParameters(
        mimeType: "video/VP8", payloadType: 96, clockRate: 90_000,
        rtcpFeedback: [.nack, .pli, .fir], rtxPayloadType: 97)

    /// A VP8 payload: descriptor with S=1, PID=0, then a frame header byte whose low bit is the
    /// inverse keyframe flag (RFC 7741 §4.3), then an index so each packet is recognisable.
    static func vp8Payload(index: Int, keyframe: Bool) -> [UInt8] {
        [0x10, keyframe ? 0x00 : 0x01, UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)]
            + [UInt8](repeating: 0xAB, count: 96)
    }

    struct Setup {
        let group: MultiThreadedEventLoopGroup
        let worker: MediaWorker
        let router: Router

        static func make() async throws -> Setup {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let worker = try await MediaWorker.start(
                configuration: .init(
                    host: "127.0.0.1", port: 0, dtlsInitialRetransmissionTimeout: .milliseconds(100),
                    rtcpTickInterval: .milliseconds(50), reportInterval: .milliseconds(200)),
                eventLoop: group.next())
            return Setup(group: group, worker: worker, router: try await worker.createRouter())
        }

        func peer() async throws -> (MediaTestPeer, WebRTCTransport) {
            let address = try #require(worker.localAddress)
            let peer = try await MediaTestPeer(group: group, server: address)
            let transport = try await router.createWebRTCTransport(
                remoteICE: peer.ice, remoteFingerprints: [peer.certificate.fingerprint], dtlsRole: .server)
            #expect(transport.info.iceLite)
            #expect(transport.info.candidates.first?.port == UInt16(address.port ?? 0))
            try await peer.connect(to: transport.info)
            let connected = await waitUntil(timeout: .seconds(5)) { true }
            #expect(connected)
            return (peer, transport)
        }

        func shutdown(_ peers: [MediaTestPeer]) async throws {
            for peer in peers { await peer.close() }
            await router.close()
            await worker.close()
            try await group.shutdownGracefully()
        }
    }

    func keyframeRequests(at peer: MediaTestPeer) -> Int {
        peer.pump()
        return peer.rtcp.filter {
            if case .pictureLossIndication(let pli) = $0 { return pli.mediaSSRC == Self.publisherSSRC }
            return false
        }.count
    }

    @Test(.timeLimit(.minutes(1)))
    func forwardsToTwoSubscribersWithRewritingNACKAndPLI() async throws {
        let setup = try await Setup.make()
        let (publisher, publisherTransport) = try await setup.peer()
        let (first, firstTransport) = try await setup.peer()
        let (second, secondTransport) = try await setup.peer()
        #expect(await publisherTransport.currentState() == .connected)

        let producer = try await publisherTransport.produce(kind: .video, parameters: RTPParameters(
            mid: "0", codecs: [Self.vp8],
            headerExtensions: [.init(uri: RTPHeaderExtensionURI.absSendTime, id: 3)],
            encodings: [.init(ssrc: Self.publisherSSRC, rtxSSRC: 0x2222_0000)], cname: "publisher"))
        // Subscriber 1: PT 100 without RTX; subscriber 2: PT 101 with RTX 102.
        let firstConsumer = try await firstTransport.consume(producer: producer, codecs: [
            RTPCodecParameters(mimeType: "video/vp8", payloadType: 100, clockRate: 90_000, rtcpFeedback: [.nack, .pli]),
        ])
        let secondConsumer = try await secondTransport.consume(
            producer: producer,
            codecs: [
                RTPCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48_000, channels: 2),
                RTPCodecParameters(
                    mimeType: "video/VP8", payloadType: 101, clockRate: 90_000, rtcpFeedback: [.nack, .pli],
                    rtxPayloadType: 102),
            ],
            headerExtensions: [.init(uri: RTPHeaderExtensionURI.absSendTime, id: 7)])
        #expect(firstConsumer.rtpParameters.codecs.map(\.payloadType) == [100])
        #expect(firstConsumer.rtxSSRC == nil)
        #expect(secondConsumer.rtpParameters.encodings.first?.rtxSSRC == secondConsumer.rtxSSRC)
        #expect(secondConsumer.rtxSSRC != nil)
        #expect(secondConsumer.rtpParameters.cname == "publisher")

        // Starting video consumers asked the publisher for a keyframe.
        #expect(await waitUntil { keyframeRequests(at: publisher) >= 1 })

        // The network "loses" packets 50 and 51 toward subscriber 1 and packet 10 toward subscriber 2.
        first.lose = [50, 51]
        second.lose = [10]
        var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
        try extensions.append(id: 3, value: [1, 2, 3])
        for index in 0..<200 {
            try publisher.sendRTP(
                payloadType: 96, sequenceNumber: UInt16(truncatingIfNeeded: 65_450 + index),
                timestamp: UInt32(index) * 3000, ssrc: Self.publisherSSRC,
                payload: Self.vp8Payload(index: index, keyframe: index == 0), extensions: extensions)
            if index % 50 == 49 { try await Task.sleep(for: .milliseconds(5)) }
        }
        func index(of packet: RTPPacket) -> Int {
            Int(packet.payload.getInteger(at: packet.payload.readerIndex + 2, as: UInt16.self) ?? 0)
        }
        for (peer, consumer, payloadType, lost) in [
            (first, firstConsumer, UInt8(100), 2), (second, secondConsumer, UInt8(101), 1),
        ] {
            let complete = await waitUntil {
                peer.pump()
                return peer.rtp.count >= 200 - lost
            }
            #expect(complete, "received \(peer.rtp.count) of \(200 - lost)")
            let packets = peer.rtp
            #expect(packets.allSatisfy { $0.ssrc == consumer.ssrc })
            #expect(packets.allSatisfy { $0.payloadType == payloadType })
            // Continuous numbering: packet i carries first + i, timestamps step by 3000.
            let base = try #require(packets.first)
            #expect(packets.allSatisfy { $0.sequenceNumber == base.sequenceNumber &+ UInt16(index(of: $0)) })
            #expect(packets.allSatisfy { $0.timestamp == base.timestamp &+ UInt32(index(of: $0)) * 3000 })
            #expect(packets.map(index(of:)) == Array(0..<200).filter { !peer.lose.contains($0) })
            #expect(peer.undecryptable == 0)
        }
        // Extension ids: subscriber 1 negotiated none (stripped), subscriber 2 has abs-send-time as 7.
        #expect(first.rtp.first?.extensions.map(\.id) == [])
        #expect(second.rtp.first?.extensionValue(id: 7).map { Array($0.readableBytesView) } == [1, 2, 3])

        // NACK from subscriber 1 (no RTX): the lost packets again, same sequence numbers.
        let firstBase = first.rtp[0].sequenceNumber
        let wanted = [firstBase &+ 50, firstBase &+ 51]
        try first.sendRTCP([
            .receiverReport(RTCPReceiverReport(ssrc: 0x5151)),
            .nack(RTCPNack(senderSSRC: 0x5151, mediaSSRC: firstConsumer.ssrc, lostSequenceNumbers: wanted)),
        ])
        #expect(await waitUntil {
            first.pump()
            return first.rtp.count >= 200
        })
        let repaired = first.rtp.dropFirst(198)
        #expect(repaired.map(\.sequenceNumber) == wanted)
        #expect(repaired.map(index(of:)) == [50, 51])

        // NACK from subscriber 2 (RTX): RFC 4588 packet with the original sequence number first.
        let lostSequence = second.rtp[0].sequenceNumber &+ 10
        try second.sendRTCP([
            .nack(RTCPNack(senderSSRC: 0x5252, mediaSSRC: secondConsumer.ssrc, lostSequenceNumbers: [lostSequence])),
        ])
        #expect(await waitUntil {
            second.pump()
            return second.rtp.count >= 200
        })
        let rtx = try #require(second.rtp.dropFirst(199).first)
        #expect(rtx.ssrc == secondConsumer.rtxSSRC)
        #expect(rtx.payloadType == 102)
        #expect(rtx.payload.getInteger(at: rtx.payload.readerIndex, as: UInt16.self) == lostSequence)
        #expect(Array(rtx.payload.readableBytesView.dropFirst(2)) == Self.vp8Payload(index: 10, keyframe: false))
        let stats = await secondConsumer.stats()
        #expect(stats.retransmissionsSent == 1)
        #expect(stats.nacksReceived == 1)

        // Sender reports reach the subscribers; receiver reports reach the publisher.
        #expect(await waitUntil {
            first.pump()
            return first.rtcp.contains { if case .senderReport(let sr) = $0 { return sr.ssrc == firstConsumer.ssrc } else { return false } }
        })
        #expect(await waitUntil {
            publisher.pump()
            return publisher.rtcp.contains {
                if case .receiverReport(let rr) = $0 { return rr.reportBlocks.contains { $0.ssrc == Self.publisherSSRC } }
                return false
            }
        })
        let producerStats = await producer.stats()
        #expect(producerStats.first?.packetsReceived == 200)
        #expect(producerStats.first?.keyframesReceived == 1)

        // A late subscriber makes the SFU ask the publisher for a keyframe again.
        let before = keyframeRequests(at: publisher)
        let (late, lateTransport) = try await setup.peer()
        let lateConsumer = try await lateTransport.consume(producer: producer, codecs: [Self.vp8])
        #expect(await waitUntil { keyframeRequests(at: publisher) > before })
        #expect(await lateConsumer.stats().waitingForKeyframe)

        try await setup.shutdown([publisher, first, second, late])
    }

    @Test(.timeLimit(.minutes(1)))
    func pauseAndResumeKeepsSequenceNumbersContinuous() async throws {
        let setup = try await Setup.make()
        let (publisher, publisherTransport) = try await setup.peer()
        let (subscriber, subscriberTransport) = try await setup.peer()
        let producer = try await publisherTransport.produce(kind: .video, parameters: RTPParameters(
            codecs: [Self.vp8], encodings: [.init(ssrc: Self.publisherSSRC)]))
        let consumer = try await subscriberTransport.consume(producer: producer, codecs: [Self.vp8])
        func send(_ range: Range<Int>, keyframeAt: Int) async throws {
            for index in range {
                try publisher.sendRTP(
                    payloadType: 96, sequenceNumber: UInt16(index), timestamp: UInt32(index) * 3000,
                    ssrc: Self.publisherSSRC, payload: Self.vp8Payload(index: index, keyframe: index == keyframeAt))
            }
        }
        try await send(0..<20, keyframeAt: 0)
        #expect(await waitUntil { subscriber.pump(); return subscriber.rtp.count == 20 })
        await consumer.pause()
        try await send(20..<40, keyframeAt: -1)
        await consumer.resume()
        // Delta frames after resume wait for the keyframe at 50.
        try await send(40..<60, keyframeAt: 50)
        #expect(await waitUntil { subscriber.pump(); return subscriber.rtp.count == 30 })
        let sequences = subscriber.rtp.map(\.sequenceNumber)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $1 == $0 &+ 1 })
        let indices = subscriber.rtp.map { Int($0.payload.getInteger(at: $0.payload.readerIndex + 2, as: UInt16.self) ?? 0) }
        #expect(indices == Array(0..<20) + Array(50..<60))
        // Same source: the timestamp gap reflects the real 30 frames that passed.
        #expect(subscriber.rtp[20].timestamp &- subscriber.rtp[19].timestamp == 31 * 3000)
        try await setup.shutdown([publisher, subscriber])
    }
}
