import NIOCore
import NIOPosix
import SFUWire
import Testing
@testable import SFUCore

/// Not a pass/fail test: prints how many packets per second one router loop forwards from one
/// publisher to ten consumers, SRTP both ways, without sockets (transports write to a counter).
@Suite("Forwarding benchmark", .serialized)
struct ForwardingBenchmarkTests {
    @Test(.timeLimit(.minutes(2)))
    func onePublisherToTenConsumers() async throws {
        let setup = try await RouterTests.Setup.make()
        let router = setup.router
        let packetCount = 20_000
        let consumerCount = 10
        let result = try await setup.worker.eventLoop.submit { () throws -> (delivered: Int, seconds: Double) in
            let material = SRTPKeyingMaterial(
                profile: .aeadAES128GCM, localMasterKey: [UInt8](repeating: 1, count: 16),
                localMasterSalt: [UInt8](repeating: 2, count: 12), remoteMasterKey: [UInt8](repeating: 3, count: 16),
                remoteMasterSalt: [UInt8](repeating: 4, count: 12))
            var delivered = 0
            let publisher = try WebRTCTransport(detachedFrom: router, keyingMaterial: material) { _ in }
            let producer = try publisher.produceOnLoop(kind: .video, parameters: RTPParameters(
                codecs: [RouterTests.vp8], encodings: [.init(ssrc: RouterTests.publisherSSRC)]))
            var subscribers: [WebRTCTransport] = []
            for _ in 0..<consumerCount {
                let subscriber = try WebRTCTransport(detachedFrom: router, keyingMaterial: material) { _ in delivered += 1 }
                _ = try subscriber.consumeOnLoop(producer: producer, codecs: [RouterTests.vp8], headerExtensions: [], paused: false)
                subscribers.append(subscriber)
            }
            let client = try SRTPSession(keyingMaterial: material.mirrored)
            var packets: [ByteBuffer] = []
            packets.reserveCapacity(packetCount)
            for index in 0..<packetCount {
                var buffer = ByteBuffer()
                buffer.reserveCapacity(1100)
                RTPPacket.write(
                    to: &buffer, marker: index % 5 == 4, payloadType: 96, sequenceNumber: UInt16(truncatingIfNeeded: index),
                    timestamp: UInt32(index / 5) * 3000, ssrc: RouterTests.publisherSSRC,
                    payload: ByteBuffer(bytes: RouterTests.vp8Payload(index: index, keyframe: index == 0) + [UInt8](repeating: 7, count: 900)))
                try client.protect(rtp: &buffer)
                packets.append(buffer)
            }
            delivered = 0
            let start = NIODeadline.now()
            for packet in packets { publisher.receiveRTP(packet, arrivalNanoseconds: monotonicNanoseconds()) }
            let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
            // Counted before closing: the consumers' RTCP BYEs go to the same taps.
            let forwardedCount = delivered
            publisher.closeOnLoop()
            for subscriber in subscribers { subscriber.closeOnLoop() }
            return (forwardedCount, elapsed)
        }.get()
        let forwarded = Double(result.delivered) / result.seconds
        print(
            "forwarding benchmark: 1 publisher → \(consumerCount) consumers, \(packetCount) packets in, "
                + "\(result.delivered) out in \(String(format: "%.3f", result.seconds)) s: "
                + "\(Int(forwarded)) packets/s out, \(Int(Double(packetCount) / result.seconds)) packets/s in")
        #expect(result.delivered == packetCount * consumerCount)
        try await setup.shutdown([])
    }
}
