import NIOCore
import SFUWire
import Testing
@testable import SFUCore

@Suite("WebRTCTransport", .serialized)
struct WebRTCTransportTests {
    @Test(.timeLimit(.minutes(1)))
    func bindsAnUndeclaredSSRCByItsRIDAndForwardsAudioWithoutGating() async throws {
        let setup = try await RouterTests.Setup.make()
        let (publisher, publisherTransport) = try await setup.peer()
        let (subscriber, subscriberTransport) = try await setup.peer()
        let ridExtension = RTPHeaderExtensionParameters(uri: RTPHeaderExtensionURI.rtpStreamID, id: 10)
        // Simulcast-style: two encodings known only by RID.
        let video = try await publisherTransport.produce(kind: .video, parameters: RTPParameters(
            mid: "1", codecs: [RouterTests.vp8], headerExtensions: [ridExtension],
            encodings: [.init(rid: "q"), .init(rid: "f")]))
        let opus = RTPCodecParameters(mimeType: "audio/opus", payloadType: 111, clockRate: 48_000, channels: 2)
        let audio = try await publisherTransport.produce(kind: .audio, parameters: RTPParameters(
            mid: "0", codecs: [opus], encodings: [.init(ssrc: 0xA0D10)]))
        let videoConsumer = try await subscriberTransport.consume(producer: video, codecs: [RouterTests.vp8])
        // The subscriber asked for the small encoding ("low").
        await videoConsumer.setLayerPreference(.position(0))
        let audioConsumer = try await subscriberTransport.consume(
            producer: audio, codecs: [RTPCodecParameters(mimeType: "audio/opus", payloadType: 109, clockRate: 48_000, channels: 2)])

        for index in 0..<5 {
            try publisher.sendRTP(
                payloadType: 111, sequenceNumber: UInt16(index), timestamp: UInt32(index) * 960, ssrc: 0xA0D10,
                payload: [0xFC, UInt8(index)])
        }
        func sendVideo(_ rid: String, sequence: UInt16, timestamp: UInt32, index: Int, keyframe: Bool) throws {
            var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
            try extensions.append(id: 10, value: Array(rid.utf8))
            try publisher.sendRTP(
                payloadType: 96, sequenceNumber: sequence, timestamp: timestamp, ssrc: rid == "q" ? 0x9000 : 0xF000,
                payload: RouterTests.vp8Payload(index: index, keyframe: keyframe), extensions: extensions)
        }
        // Both encodings are bound by their RID; only "q" is forwarded.
        try sendVideo("q", sequence: 1, timestamp: 0, index: 1, keyframe: true)
        try sendVideo("f", sequence: 1, timestamp: 0, index: 2, keyframe: true)
        #expect(await waitUntil {
            subscriber.pump()
            return subscriber.rtp.count == 6
        })
        let audioPackets = subscriber.rtp.filter { $0.ssrc == audioConsumer.ssrc }
        #expect(audioPackets.count == 5)
        #expect(audioPackets.allSatisfy { $0.payloadType == 109 })
        let videoPackets = subscriber.rtp.filter { $0.ssrc == videoConsumer.ssrc }
        #expect(videoPackets.count == 1)
        #expect(videoPackets.first.map { $0.payload.getInteger(at: $0.payload.readerIndex + 3, as: UInt8.self) } == 1)
        let stats = await video.stats()
        #expect(Set(stats.map(\.ssrc)) == [0xF000, 0x9000])
        #expect(Set(stats.compactMap(\.rid)) == ["q", "f"])
        #expect(stats.allSatisfy { $0.active })
        #expect(await videoConsumer.stats().rid == "q")

        // "high": the switch to "f" waits for its keyframe ("q" keeps flowing meanwhile), without a gap.
        await videoConsumer.setLayerPreference(.highest)
        #expect(await videoConsumer.stats().switchingToRID == "f")
        try sendVideo("f", sequence: 2, timestamp: 3000, index: 3, keyframe: false)
        try sendVideo("q", sequence: 2, timestamp: 3000, index: 4, keyframe: false)
        try sendVideo("f", sequence: 3, timestamp: 6000, index: 5, keyframe: true)
        #expect(await waitUntil {
            subscriber.pump()
            return subscriber.rtp.filter { $0.ssrc == videoConsumer.ssrc }.count == 3
        })
        let switched = subscriber.rtp.filter { $0.ssrc == videoConsumer.ssrc }
        #expect(switched.count == 3)
        if switched.count == 3 {
            #expect(switched.map { $0.payload.getInteger(at: $0.payload.readerIndex + 3, as: UInt8.self) } == [1, 4, 5])
            #expect(switched[1].sequenceNumber == switched[0].sequenceNumber &+ 1)
            #expect(switched[2].sequenceNumber == switched[1].sequenceNumber &+ 1)
        }
        #expect(await videoConsumer.stats().rid == "f")

        // The publisher stops "f" (no bandwidth): after 1.5 s without it the consumer falls back
        // to "q" at its next keyframe, although "high" was asked for.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        var sequence: UInt16 = 3
        var fellBack = false
        while clock.now < deadline, !fellBack {
            sequence &+= 1
            try sendVideo("q", sequence: sequence, timestamp: UInt32(sequence) * 3000, index: 100 + Int(sequence), keyframe: true)
            try await Task.sleep(for: .milliseconds(100))
            subscriber.pump()
            fellBack = subscriber.rtp.contains {
                $0.ssrc == videoConsumer.ssrc && $0.payload.getInteger(at: $0.payload.readerIndex + 3, as: UInt8.self) ?? 0 >= 100
            }
        }
        #expect(fellBack)
        #expect(await videoConsumer.stats().rid == "q")
        #expect(await video.stats().first { $0.rid == "f" }?.active == false)
        try await setup.shutdown([publisher, subscriber])
    }

    /// A publisher that negotiated transport-cc gets transport-wide feedback on the RTCP timer,
    /// counting every packet it sent, so its bandwidth estimator can ramp up.
    @Test(.timeLimit(.minutes(1)))
    func publisherGetsTransportWideFeedbackForEveryPacket() async throws {
        let setup = try await RouterTests.Setup.make()
        let (publisher, publisherTransport) = try await setup.peer()
        let twcc = RTPHeaderExtensionParameters(uri: RTPHeaderExtensionURI.transportWideCC, id: 5)
        _ = try await publisherTransport.produce(kind: .video, parameters: RTPParameters(
            mid: "0", codecs: [RouterTests.vp8], headerExtensions: [twcc], encodings: [.init(ssrc: 0x5100)]))
        for index in 0..<20 where index != 7 {
            var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
            try extensions.append(id: 5, value: [0x12, UInt8(index)])
            try publisher.sendRTP(
                payloadType: 96, sequenceNumber: UInt16(index), timestamp: UInt32(index) * 3000, ssrc: 0x5100,
                payload: RouterTests.vp8Payload(index: index, keyframe: index == 0), extensions: extensions)
        }
        var statuses: [UInt16: Bool] = [:]
        #expect(await waitUntil {
            publisher.pump()
            for packet in publisher.rtcp {
                guard case .transportCC(let feedback) = packet else { continue }
                for (offset, status) in feedback.packets.enumerated() {
                    let sequence = feedback.baseSequenceNumber &+ UInt16(offset)
                    if case .received = status { statuses[sequence] = true } else { statuses[sequence] = statuses[sequence] ?? false }
                }
            }
            return statuses.count == 20
        })
        #expect(statuses[0x1207] == false)
        #expect(statuses.filter { $0.value }.count == 19)
        #expect(statuses.keys.allSatisfy { (0x1200...0x1213).contains($0) })
        try await setup.shutdown([publisher])
    }
}
