import NIOCore
import SFUCore

/// A client and a server transport wired through an in-memory datagram queue (no sockets).
final class DTLSPair {
    let client: DTLSTransport
    let server: DTLSTransport
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var clientResult: (SRTPKeyingMaterial, SRTPProfile)?
    var serverResult: (SRTPKeyingMaterial, SRTPProfile)?
    var clientFailure: DTLSError?
    var serverFailure: DTLSError?
    var clientClosed = false
    var serverClosed = false
    /// Datagrams in flight: `true` means client → server.
    var queue: [(toServer: Bool, datagram: ByteBuffer)] = []
    var sentByClient = 0
    var sentByServer = 0
    /// Return `true` to drop the n-th datagram (0-based, per sender).
    var drop: (_ fromClient: Bool, _ index: Int) -> Bool = { _, _ in false }

    init(
        clientProfiles: [SRTPProfile] = [.aeadAES128GCM, .aes128CMHMACSHA1_80],
        serverProfiles: [SRTPProfile] = [.aeadAES128GCM, .aes128CMHMACSHA1_80],
        clientExpects: DTLSFingerprint? = nil,
        serverExpects: DTLSFingerprint? = nil,
        initialRetransmissionTimeout: TimeAmount = .milliseconds(50)
    ) throws {
        let clientCertificate = try DTLSCertificate()
        let serverCertificate = try DTLSCertificate()
        client = try DTLSTransport(configuration: .init(
            role: .client, certificate: clientCertificate,
            remoteFingerprints: [clientExpects ?? serverCertificate.fingerprint],
            srtpProfiles: clientProfiles, initialRetransmissionTimeout: initialRetransmissionTimeout))
        server = try DTLSTransport(configuration: .init(
            role: .server, certificate: serverCertificate,
            remoteFingerprints: [serverExpects ?? clientCertificate.fingerprint],
            srtpProfiles: serverProfiles, initialRetransmissionTimeout: initialRetransmissionTimeout))
    }

    var finished: Bool {
        (clientResult != nil || clientFailure != nil) && (serverResult != nil || serverFailure != nil)
    }

    func perform(_ actions: [DTLSAction], fromClient: Bool) {
        for action in actions {
            switch action {
            case .send(let datagram):
                let index = fromClient ? sentByClient : sentByServer
                if fromClient { sentByClient += 1 } else { sentByServer += 1 }
                if !drop(fromClient, index) { queue.append((toServer: fromClient, datagram: datagram)) }
            case .connected(let material, let profile):
                if fromClient { clientResult = (material, profile) } else { serverResult = (material, profile) }
            case .failed(let error):
                if fromClient { clientFailure = error } else { serverFailure = error }
            case .closed:
                if fromClient { clientClosed = true } else { serverClosed = true }
            }
        }
    }

    /// Delivers queued datagrams until the queue is empty (bounded).
    func deliverAll(limit: Int = 200) {
        var steps = 0
        while !queue.isEmpty, steps < limit {
            steps += 1
            let (toServer, datagram) = queue.removeFirst()
            let target = toServer ? server : client
            perform(target.receive(datagram: datagram, now: now), fromClient: !toServer)
        }
    }

    /// Handshake with retransmission: when nothing is in flight, moves the manual clock to the
    /// earliest `nextTimeout` and ticks. OpenSSL 3.0 also checks its own wall clock before it
    /// retransmits (no clock injection in its API), so a tick that is early in real time returns
    /// nothing and this waits the remaining real milliseconds; bounded by `rounds` and 5 s.
    func runHandshake(rounds: Int = 60) {
        perform(client.startHandshake(now: now), fromClient: true)
        perform(server.startHandshake(now: now), fromClient: false)
        let realDeadline = NIODeadline.now() + .seconds(5)
        var round = 0
        while !finished, round < rounds, NIODeadline.now() < realDeadline {
            round += 1
            deliverAll()
            if finished { break }
            let timeouts = [client.nextTimeout, server.nextTimeout].compactMap { $0 }
            guard let earliest = timeouts.min() else { break }
            if earliest > now { now = earliest }
            perform(client.tick(now: now), fromClient: true)
            perform(server.tick(now: now), fromClient: false)
            if queue.isEmpty {
                // OpenSSL's own timer has not expired yet in real time: wait for it (≤ 60 ms).
                usleepMilliseconds(10)
            }
        }
    }
}

func usleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: 0, tv_nsec: milliseconds * 1_000_000)
    _ = nanosleep(&request, nil)
}

#if canImport(Glibc)
import Glibc
#endif
