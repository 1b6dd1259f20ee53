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
        let audioConsumer = try await subscriberTransport.consume(
            producer: audio, codecs: [RTPCodecParameters(mimeType: "audio/opus", payloadType: 109, clockRate: 48_000, channels: 2)])

        for index in 0..<5 {
            try publisher.sendRTP(
                payloadType: 111, sequenceNumber: UInt16(index), timestamp: UInt32(index) * 960, ssrc: 0xA0D10,
                payload: [0xFC, UInt8(index)])
        }
        // Encoding "f" (index 1) arrives first: it is bound but not forwarded (encoding 0 is).
        for (rid, ssrc) in [("f", UInt32(0xF000)), ("q", UInt32(0x9000))] {
            var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
            try extensions.append(id: 10, value: Array(rid.utf8))
            try publisher.sendRTP(
                payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: ssrc,
                payload: RouterTests.vp8Payload(index: rid == "q" ? 1 : 2, keyframe: true), extensions: extensions)
        }
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

        // Switching the consumer to encoding "f" happens at its next keyframe, without a gap.
        await videoConsumer.setPreferredEncoding(1)
        var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
        try extensions.append(id: 10, value: Array("f".utf8))
        try publisher.sendRTP(
            payloadType: 96, sequenceNumber: 2, timestamp: 3000, ssrc: 0xF000,
            payload: RouterTests.vp8Payload(index: 3, keyframe: false), extensions: extensions)
        try publisher.sendRTP(
            payloadType: 96, sequenceNumber: 3, timestamp: 6000, ssrc: 0xF000,
            payload: RouterTests.vp8Payload(index: 4, keyframe: true), extensions: extensions)
        #expect(await waitUntil {
            subscriber.pump()
            return subscriber.rtp.filter { $0.ssrc == videoConsumer.ssrc }.count == 2
        })
        let switched = subscriber.rtp.filter { $0.ssrc == videoConsumer.ssrc }
        #expect(switched.count == 2)
        if switched.count == 2 {
            #expect(switched[1].sequenceNumber == switched[0].sequenceNumber &+ 1)
            #expect(switched[1].payload.getInteger(at: switched[1].payload.readerIndex + 3, as: UInt8.self) == 4)
        }
        try await setup.shutdown([publisher, subscriber])
    }
}
