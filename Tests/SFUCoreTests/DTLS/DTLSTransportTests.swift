import COpenSSL
import NIOCore
import SFUCore
import Testing

@Suite("DTLSTransport")
struct DTLSTransportTests {
    @Test("client and server reach connected with mirrored keys", arguments: [
        ([SRTPProfile.aeadAES128GCM, .aes128CMHMACSHA1_80], SRTPProfile.aeadAES128GCM),
        ([SRTPProfile.aes128CMHMACSHA1_80], SRTPProfile.aes128CMHMACSHA1_80),
        ([SRTPProfile.aeadAES128GCM], SRTPProfile.aeadAES128GCM),
    ])
    func handshake(serverProfiles: [SRTPProfile], expected: SRTPProfile) throws {
        let pair = try DTLSPair(serverProfiles: serverProfiles)
        pair.runHandshake()
        let client = try #require(pair.clientResult)
        let server = try #require(pair.serverResult)
        #expect(client.1 == expected)
        #expect(server.1 == expected)
        #expect(client.0.profile == expected)
        #expect(client.0 == server.0.mirrored)
        #expect(client.0.localMasterKey.count == 16)
        #expect(client.0.localMasterSalt.count == expected.saltLength)
        #expect(client.0.localMasterKey != client.0.remoteMasterKey)
        #expect(pair.client.state == .connected(expected))
        #expect(pair.server.state == .connected(expected))
        #expect(ERR_peek_error() == 0)
    }

    @Test("the server's profile order wins over the client's")
    func serverPreference() throws {
        let pair = try DTLSPair(
            clientProfiles: [.aes128CMHMACSHA1_80, .aeadAES128GCM],
            serverProfiles: [.aeadAES128GCM, .aes128CMHMACSHA1_80])
        pair.runHandshake()
        #expect(pair.clientResult?.1 == .aeadAES128GCM)
    }

    @Test("no common SRTP profile fails the handshake")
    func noCommonProfile() throws {
        let pair = try DTLSPair(clientProfiles: [.aes128CMHMACSHA1_80], serverProfiles: [.aeadAES128GCM])
        pair.runHandshake()
        #expect(pair.clientResult == nil || pair.serverResult == nil)
        #expect(pair.clientFailure != nil || pair.serverFailure != nil)
    }

    @Test("every datagram fits the link MTU")
    func datagramsFitMTU() throws {
        let pair = try DTLSPair()
        var largest = 0
        pair.perform(pair.client.startHandshake(now: pair.now), fromClient: true)
        var steps = 0
        while !pair.queue.isEmpty, steps < 100 {
            steps += 1
            let (toServer, datagram) = pair.queue.removeFirst()
            largest = max(largest, datagram.readableBytes)
            pair.perform((toServer ? pair.server : pair.client).receive(datagram: datagram, now: pair.now), fromClient: !toServer)
        }
        #expect(pair.clientResult != nil)
        #expect(largest <= DTLSTransport.defaultMTU)
    }

    @Test("a server certificate that does not match the SDP fingerprint fails the client")
    func clientSeesFingerprintMismatch() throws {
        let other = try DTLSCertificate()
        let pair = try DTLSPair(clientExpects: other.fingerprint)
        pair.runHandshake()
        #expect(pair.clientResult == nil)
        #expect(pair.clientFailure?.code == .fingerprintMismatch)
        #expect(pair.serverResult == nil)
        if case .failed(let error) = pair.client.state { #expect(error.code == .fingerprintMismatch) } else {
            Issue.record("client state is \(pair.client.state)")
        }
    }

    @Test("a client certificate that does not match fails the server")
    func serverSeesFingerprintMismatch() throws {
        let other = try DTLSCertificate()
        let pair = try DTLSPair(serverExpects: other.fingerprint(.sha512))
        pair.runHandshake()
        #expect(pair.serverResult == nil)
        #expect(pair.serverFailure?.code == .fingerprintMismatch)
        #expect(pair.clientResult == nil)
    }

    @Test("a sha-1/384/512 fingerprint of the right certificate is accepted", arguments: [
        DTLSFingerprint.Algorithm.sha1, .sha384, .sha512,
    ])
    func otherHashes(algorithm: DTLSFingerprint.Algorithm) throws {
        let clientCertificate = try DTLSCertificate()
        let serverCertificate = try DTLSCertificate()
        let client = try DTLSTransport(configuration: .init(
            role: .client, certificate: clientCertificate,
            remoteFingerprints: [try #require(serverCertificate.fingerprint(algorithm))]))
        let server = try DTLSTransport(configuration: .init(
            role: .server, certificate: serverCertificate,
            remoteFingerprints: [try #require(clientCertificate.fingerprint(algorithm))]))
        let now = NIODeadline.uptimeNanoseconds(0)
        var toServer = client.startHandshake(now: now)
        var connected = 0
        for _ in 0..<10 {
            var toClient: [DTLSAction] = []
            for case .send(let datagram) in toServer { toClient += server.receive(datagram: datagram, now: now) }
            connected += toClient.filter { if case .connected = $0 { true } else { false } }.count
            toServer = []
            for case .send(let datagram) in toClient { toServer += client.receive(datagram: datagram, now: now) }
            connected += toServer.filter { if case .connected = $0 { true } else { false } }.count
            if toServer.isEmpty { break }
        }
        #expect(connected == 2)
    }

    @Test("a lost first flight is retransmitted on tick and the handshake completes",
          arguments: [true, false])
    func lostFirstFlight(dropClientFlight: Bool) throws {
        let pair = try DTLSPair()
        var firstFlightSize = 0
        pair.drop = { fromClient, index in
            // The client's first flight is its ClientHello; the server's first flight is
            // ServerHello…ServerHelloDone, which may span several datagrams.
            guard fromClient == dropClientFlight else { return false }
            return fromClient ? index == 0 : index < firstFlightSize
        }
        if !dropClientFlight {
            // Learn the size of the server's first flight from a lossless dry run.
            let probe = try DTLSPair()
            probe.perform(probe.client.startHandshake(now: probe.now), fromClient: true)
            let hello = probe.queue.removeFirst()
            firstFlightSize = probe.server.receive(datagram: hello.datagram, now: probe.now).count
        }
        pair.runHandshake()
        #expect(pair.clientResult != nil)
        #expect(pair.serverResult != nil)
        #expect(pair.clientResult?.0 == pair.serverResult?.0.mirrored)
        // ClientHello (lost), its retransmission, then the client's second flight.
        if dropClientFlight { #expect(pair.sentByClient >= 3) }
    }

    @Test("the handshake deadline fails the transport on the injected clock alone")
    func handshakeDeadline() throws {
        let certificate = try DTLSCertificate()
        let client = try DTLSTransport(configuration: .init(
            role: .client, certificate: certificate, remoteFingerprints: [certificate.fingerprint],
            handshakeTimeout: .seconds(10)))
        let start = NIODeadline.uptimeNanoseconds(5_000_000_000)
        #expect(client.startHandshake(now: start).count == 1)
        #expect(try #require(client.nextTimeout) <= start + .seconds(10))
        let actions = client.tick(now: start + .seconds(11))
        #expect(actions.contains { if case .failed(let error) = $0 { error.code == .handshakeTimeout } else { false } })
        #expect(client.nextTimeout == nil)
        #expect(client.tick(now: start + .seconds(20)).isEmpty)
    }

    @Test("close sends close_notify and the peer reports closed")
    func closeNotify() throws {
        let pair = try DTLSPair()
        pair.runHandshake()
        #expect(pair.clientResult != nil && pair.serverResult != nil)
        pair.perform(pair.client.close(), fromClient: true)
        #expect(pair.client.state == .closed)
        pair.deliverAll()
        #expect(pair.serverClosed)
        #expect(pair.server.state == .closed)
        #expect(pair.server.receive(datagram: ByteBuffer(bytes: [23, 254, 253]), now: pair.now).isEmpty)
    }

    @Test("a client ignores datagrams before startHandshake")
    func clientIgnoresEarlyInput() throws {
        let certificate = try DTLSCertificate()
        let client = try DTLSTransport(configuration: .init(
            role: .client, certificate: certificate, remoteFingerprints: [certificate.fingerprint]))
        #expect(client.receive(datagram: ByteBuffer(bytes: [22, 254, 253, 0]), now: .uptimeNanoseconds(0)).isEmpty)
        #expect(client.state == .idle)
    }
}
