import NIOCore
import SFUWire

/// RTCP of a WebRTC transport: feedback from subscribers (NACK → retransmission, PLI/FIR →
/// throttled keyframe request to the publisher), sender reports from publishers (for our receiver
/// reports' LSR/DLSR), and the periodic SR/RR we send.
///
/// Publishers get transport-wide CC feedback (``TransportCCRecorder``) for their bandwidth
/// estimation. Received but ignored for now: receiver reports from subscribers (no RTT estimate
/// yet), REMB and transport-wide CC feedback from subscribers (parsed by SFUWire; the SFU does
/// not estimate its send bandwidth yet), SDES, BYE, APP/XR.
extension WebRTCTransport {
    func receiveRTCP(_ datagram: ByteBuffer, arrivalNanoseconds now: UInt64) {
        guard let srtp else {
            worker.metrics.drop(.notConnected)
            return
        }
        var buffer = datagram
        do {
            try srtp.unprotectRTCP(srtcp: &buffer)
        } catch {
            worker.metrics.srtpFailure(error, rtcp: true)
            return
        }
        var iterator = RTCPCompoundIterator(buffer)
        // A compound packet holds a handful of packets; 64 bounds a hostile one.
        for _ in 0..<64 {
            let packet: RTCPPacket?
            do {
                packet = try iterator.next()
            } catch {
                worker.metrics.drop(.malformedRTCP)
                return
            }
            guard let packet else { return }
            handle(packet, nowNanoseconds: now)
        }
    }

    private func handle(_ packet: RTCPPacket, nowNanoseconds now: UInt64) {
        switch packet {
        case .senderReport(let report):
            guard let route = route(ssrc: report.ssrc), !route.isRTX else { return }
            _ = route.producer.streams[route.streamIndex].withRecv {
                $0.receivedSenderReport(compactNTP: report.compactNTP, arrivalNanoseconds: now)
            }
        case .nack(let nack):
            guard let consumer = consumer(ssrc: nack.mediaSSRC), consumer.ssrc == nack.mediaSSRC else { return }
            consumer.retransmit(sequenceNumbers: nack.lostSequenceNumbers)
        case .pictureLossIndication(let pli):
            consumer(ssrc: pli.mediaSSRC)?.receivedKeyframeRequest(nowNanoseconds: now)
        case .fullIntraRequest(let fir):
            for entry in fir.entries.prefix(8) {
                consumer(ssrc: entry.ssrc)?.receivedKeyframeRequest(nowNanoseconds: now)
            }
        case .receiverReport, .sourceDescription, .bye, .transportCC, .remb, .unknown:
            // Not used yet (see the type's comment).
            break
        }
    }

    /// Sends a PLI (RFC 4585 §6.3.1), or a FIR (RFC 5104 §4.3.1) with sequence number `fir`, for
    /// `mediaSSRC` to this transport's publisher. Preceded by an empty RR so the compound packet
    /// starts with a report (RFC 3550 §6.1).
    func sendKeyframeRequest(mediaSSRC: UInt32, fir: UInt8?) {
        guard srtp != nil else { return }
        var buffer = allocator.buffer(capacity: 64 + SRTPSession.maximumTrailerLength)
        RTCPReceiverReport(ssrc: rtcpSSRC).write(to: &buffer)
        if let fir {
            RTCPFullIntraRequest(senderSSRC: rtcpSSRC, entries: [.init(ssrc: mediaSSRC, sequenceNumber: fir)])
                .write(to: &buffer)
        } else {
            RTCPPictureLossIndication(senderSSRC: rtcpSSRC, mediaSSRC: mediaSSRC).write(to: &buffer)
        }
        sendRTCP(&buffer)
    }

    /// Sends one SR (+ SDES CNAME) per consumer that has sent media, and one RR with a block per
    /// incoming stream (RFC 3550 §6.4), each as its own compound packet.
    func sendReports(nowNanoseconds now: UInt64) {
        guard srtp != nil else { return }
        let ntp = NTPTime.now()
        for consumer in consumers.values {
            guard let report = consumer.senderReport(ntp: ntp, nowNanoseconds: now) else { continue }
            var buffer = allocator.buffer(capacity: 128 + SRTPSession.maximumTrailerLength)
            report.write(to: &buffer)
            if let cname = consumer.rtpParameters.cname {
                RTCPSourceDescription(chunks: [.init(source: consumer.ssrc, items: [.cname(cname)])]).write(to: &buffer)
            }
            sendRTCP(&buffer)
        }
        var blocks: [RTCPReportBlock] = []
        for producer in producers.values {
            for stream in producer.streams {
                if let block = stream.withRecv({ $0.makeReportBlock(nowNanoseconds: now) }) { blocks.append(block) }
            }
        }
        var start = 0
        while start < blocks.count {
            let chunk = Array(blocks[start..<min(start + 31, blocks.count)])
            start += 31
            var buffer = allocator.buffer(capacity: 8 + 24 * chunk.count + SRTPSession.maximumTrailerLength)
            RTCPReceiverReport(ssrc: rtcpSSRC, reportBlocks: chunk).write(to: &buffer)
            sendRTCP(&buffer)
        }
    }

    /// Transport-wide congestion control feedback for what the publisher sent since the last
    /// tick (see ``TransportCCRecorder``), after an empty RR as in ``sendKeyframeRequest``.
    func sendTransportFeedback() {
        guard srtp != nil, transportCC != nil else { return }
        let mediaSSRC = producers.values.lazy.compactMap { $0.streams.first?.ssrc }.first ?? 0
        for _ in 0..<4 {
            guard let feedback = transportCC?.makeFeedback(senderSSRC: rtcpSSRC, mediaSSRC: mediaSSRC) else { return }
            var buffer = allocator.buffer(capacity: 8 + feedback.encodedSize + SRTPSession.maximumTrailerLength)
            RTCPReceiverReport(ssrc: rtcpSSRC).write(to: &buffer)
            feedback.write(to: &buffer)
            sendRTCP(&buffer)
            worker.metrics.transportFeedbackSent.increment()
        }
    }

    func rerequestKeyframes(nowNanoseconds now: UInt64) {
        for consumer in consumers.values { consumer.rerequestKeyframe(nowNanoseconds: now) }
    }
}
