import NIOCore
import SFUCore
import SFUWire

/// The SDP the load generator offers (one BUNDLE group, rtcp-mux, host candidate on loopback,
/// VP8 on payload type 96 and Opus on 111) and what it reads from an answer.
enum BenchSDP {
    struct Section {
        enum Kind: String { case audio, video }
        var kind: Kind
        /// `sendonly` for a publisher, `recvonly` for a subscriber.
        var sending: Bool
        var ssrc: UInt32?
    }

    /// Who we are in SDP: ICE credentials, certificate fingerprint, the port of our host candidate.
    struct Identity: Sendable {
        var ufrag: String
        var password: String
        var fingerprint: DTLSFingerprint
        var address: String
        var port: Int
    }

    static func offer(_ identity: Identity, sections: [Section]) -> String {
        let (ufrag, password, fingerprint, port) = (identity.ufrag, identity.password, identity.fingerprint, identity.port)
        let address = identity.address
        var lines = [
            "v=0", "o=- \(UInt32.random(in: 1...UInt32.max)) 1 IN IP4 \(address)", "s=commucat-bench", "t=0 0",
            "a=group:BUNDLE " + sections.indices.map(String.init).joined(separator: " "), "a=msid-semantic: WMS *",
        ]
        for (mid, section) in sections.enumerated() {
            let payloadType = section.kind == .video ? 96 : 111
            lines += [
                "m=\(section.kind.rawValue) \(port) UDP/TLS/RTP/SAVPF \(payloadType)", "c=IN IP4 \(address)",
                "a=mid:\(mid)", section.sending ? "a=sendonly" : "a=recvonly", "a=rtcp-mux",
                "a=ice-ufrag:\(ufrag)", "a=ice-pwd:\(password)", "a=fingerprint:\(fingerprint.sdpValue)", "a=setup:actpass",
            ]
            if section.kind == .video {
                lines += ["a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 ccm fir"]
            } else {
                lines += ["a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1"]
            }
            if let ssrc = section.ssrc {
                lines += ["a=ssrc:\(ssrc) cname:commucat-bench", "a=msid:bench bench-\(section.kind.rawValue)"]
            }
            lines += ["a=candidate:1 1 udp 2130706431 \(address) \(port) typ host", "a=end-of-candidates"]
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// ICE credentials, DTLS fingerprint and the first IPv4 host candidate of an answer.
    static func remote(fromAnswer text: String) throws -> LoadPeer.Remote {
        let answer: SessionDescription
        do {
            answer = try SessionDescription(parsing: text)
        } catch {
            throw LoadPeerError("unparseable answer: \(error)")
        }
        let media = answer.media.first { !$0.isRejected }
        guard let ufrag = media?.iceUfrag ?? answer.iceUfrag, let password = media?.icePwd ?? answer.icePwd else {
            throw LoadPeerError("answer without ICE credentials")
        }
        guard let offered = (media?.fingerprints ?? []).first ?? answer.fingerprints.first,
              let fingerprint = try? DTLSFingerprint(algorithm: offered.algorithm, hex: offered.value)
        else { throw LoadPeerError("answer without a usable fingerprint") }
        let candidates = answer.media.flatMap(\.candidates).filter { $0.transport.lowercased() == "udp" && !$0.address.contains(":") }
        guard let candidate = candidates.first, let address = try? SocketAddress(ipAddress: candidate.address, port: Int(candidate.port))
        else { throw LoadPeerError("answer without an IPv4 UDP candidate") }
        let setup = media?.setup ?? answer.setup
        return LoadPeer.Remote(
            ufrag: ufrag, password: password, fingerprint: fingerprint, address: address,
            dtlsRole: setup == .active ? .server : .client, controlling: true)
    }

    /// Our recvonly answer to an SFU's offer (Janus subscribers): every offered m-section accepted
    /// with its first VP8 or Opus payload type, `a=setup:active` (we are the DTLS client), and the
    /// offerer controls ICE.
    static func answer(to text: String, _ identity: Identity) throws -> (answer: String, remote: LoadPeer.Remote) {
        let offer: SessionDescription
        do {
            offer = try SessionDescription(parsing: text)
        } catch {
            throw LoadPeerError("unparseable offer: \(error)")
        }
        var remote = try remote(fromAnswer: text)
        remote.dtlsRole = .client
        remote.controlling = false
        var lines = ["v=0", "o=- \(UInt32.random(in: 1...UInt32.max)) 1 IN IP4 \(identity.address)", "s=commucat-bench", "t=0 0"]
        let mids = offer.media.compactMap(\.mid)
        if !mids.isEmpty { lines.append("a=group:BUNDLE " + mids.joined(separator: " ")) }
        for media in offer.media {
            let wanted = media.media == "video" ? "vp8" : "opus"
            guard let codec = media.rtpmaps.first(where: { $0.encodingName.lowercased() == wanted }), !media.isRejected else {
                lines += ["m=\(media.media) 0 \(media.proto) \(media.formats.first ?? "0")", "c=IN IP4 0.0.0.0"]
                if let mid = media.mid { lines.append("a=mid:\(mid)") }
                continue
            }
            let channels = codec.channels.map { "/\($0)" } ?? ""
            lines += [
                "m=\(media.media) \(identity.port) UDP/TLS/RTP/SAVPF \(codec.payloadType)", "c=IN IP4 \(identity.address)",
                "a=recvonly", "a=rtcp-mux", "a=ice-ufrag:\(identity.ufrag)", "a=ice-pwd:\(identity.password)",
                "a=fingerprint:\(identity.fingerprint.sdpValue)", "a=setup:active",
                "a=rtpmap:\(codec.payloadType) \(codec.encodingName)/\(codec.clockRate)\(channels)",
                "a=candidate:1 1 udp 2130706431 \(identity.address) \(identity.port) typ host", "a=end-of-candidates",
            ]
            if let mid = media.mid { lines.append("a=mid:\(mid)") }
        }
        return (lines.joined(separator: "\r\n") + "\r\n", remote)
    }
}
