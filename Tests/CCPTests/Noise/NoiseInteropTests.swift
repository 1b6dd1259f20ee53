import Foundation
import Testing

@testable import CCP

/// Interop with an independent Noise implementation: PyPI `noiseprotocol` 0.3.1 driven by
/// scripts/noise_peer.py (see its docstring for the conversation).
///
/// The interpreter is `$COMMUCAT_TEST_PYTHON`, else `.build/venv/bin/python3` under the package
/// root. Without it the tests are skipped, unless `CI=true`, where they fail.
enum InteropPython {
    static let path: String = {
        if let configured = ProcessInfo.processInfo.environment["COMMUCAT_TEST_PYTHON"], !configured.isEmpty {
            return configured.hasPrefix("/") ? configured : packageRoot.appendingPathComponent(configured).path
        }
        return packageRoot.appendingPathComponent(".build/venv/bin/python3").path
    }()

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: Self.path) }
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}

/// A running noise_peer.py with `u32be(length) || bytes` units over its stdin/stdout.
final class NoisePeerProcess {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()

    init(arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: InteropPython.path)
        self.process.arguments = [packageRoot.appendingPathComponent("scripts/noise_peer.py").path] + arguments
        self.process.standardInput = self.input
        self.process.standardOutput = self.output
        self.process.standardError = self.errors
        try self.process.run()
        // A watchdog bounds the whole conversation: a stuck peer is killed, its reads hit EOF.
        let process = self.process
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) {
            if process.isRunning { process.terminate() }
        }
    }

    func send(_ bytes: [UInt8]) throws {
        let length = UInt32(bytes.count)
        let header: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        try self.input.fileHandleForWriting.write(contentsOf: Data(header + bytes))
    }

    func receive() throws -> [UInt8] {
        let header = try self.read(count: 4)
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        return try self.read(count: length)
    }

    private func read(count: Int) throws -> [UInt8] {
        var collected: [UInt8] = []
        while collected.count < count {
            guard let chunk = try self.output.fileHandleForReading.read(upToCount: count - collected.count), !chunk.isEmpty else {
                throw PeerFailure(stderr: self.finish())
            }
            collected += chunk
        }
        return collected
    }

    /// Closes the peer's input and returns its stderr once it exits.
    @discardableResult
    func finish() -> String {
        try? self.input.fileHandleForWriting.close()
        self.process.waitUntilExit()
        let data = (try? self.errors.fileHandleForReading.readToEnd()) ?? nil
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    struct PeerFailure: Error, CustomStringConvertible {
        var stderr: String
        var description: String { "noise_peer.py ended early: \(self.stderr)" }
    }
}

@Suite(.enabled(if: InteropPython.isAvailable || InteropPython.isCI, "no interop python (set COMMUCAT_TEST_PYTHON)"))
struct NoiseInteropTests {
    static let cases: [(NoisePattern, NoiseRole)] = [(.xk, .initiator), (.xk, .responder), (.ik, .initiator), (.ik, .responder)]

    @Test(arguments: cases)
    func handshakeAndTransportWithNoiseprotocol(pattern: NoisePattern, swiftRole: NoiseRole) throws {
        try #require(
            InteropPython.isAvailable,
            "CI=true but no interop python at \(InteropPython.path): create it with `python3 -m venv .build/venv && .build/venv/bin/pip install noiseprotocol==0.3.1` or set COMMUCAT_TEST_PYTHON"
        )
        let prologue = Array("commucat".utf8)
        let swiftStatic = NoiseKeyPair.generate()
        let pythonStatic = NoiseKeyPair.generate()
        let swiftIsInitiator = swiftRole == .initiator
        var arguments = [
            "--pattern", pattern.rawValue, "--role", swiftIsInitiator ? "responder" : "initiator",
            "--static-private", hexString(pythonStatic.privateKeyBytes), "--prologue", hexString(prologue),
        ]
        if !swiftIsInitiator { arguments += ["--remote-static", hexString(swiftStatic.publicKey)] }
        let peer = try NoisePeerProcess(arguments: arguments)
        defer { peer.finish() }

        var handshake = try NoiseHandshakeState(
            configuration: NoiseHandshakeConfiguration(
                pattern: pattern,
                role: swiftRole,
                prologue: prologue,
                localStatic: swiftStatic,
                remoteStatic: swiftIsInitiator ? pythonStatic.publicKey : nil
            )
        )
        var result: NoiseHandshakeResult?
        for index in 0..<pattern.messagePatterns.count {
            let action: NoiseHandshakeAction
            if handshake.expectation == .writeMessage {
                action = try handshake.writeMessage(payload: Array("swift-hs-\(index)".utf8))
                try peer.send(try #require(action.message))
            } else {
                action = try handshake.readMessage(try peer.receive())
                #expect(action.payload == Array("py-hs-\(index)".utf8))
            }
            result = action.result ?? result
        }
        let completed = try #require(result)
        #expect(completed.remoteStatic == pythonStatic.publicKey)
        var transport = completed.transport

        let hashMessage = try transport.decrypt(try peer.receive())
        #expect(hashMessage == Array("hh:\(hexString(completed.handshakeHash))".utf8))
        func roundTrip(_ text: [UInt8]) throws -> [UInt8] {
            try peer.send(try transport.encrypt(text))
            return try transport.decrypt(try peer.receive())
        }
        for round in 0..<3 {
            #expect(try roundTrip(Array("message \(round)".utf8)) == Array("echo:message \(round)".utf8))
        }
        let large = [UInt8](repeating: 0x5a, count: 60_000)
        #expect(try roundTrip(large) == Array("echo:".utf8) + large)
        // Noise §11.3 rekey, both directions, after the peer acknowledges with the old keys.
        #expect(try roundTrip(Array("rekey".utf8)) == Array("rekeyed".utf8))
        transport.rekeySending()
        transport.rekeyReceiving()
        for round in 0..<2 {
            #expect(try roundTrip(Array("after rekey \(round)".utf8)) == Array("echo:after rekey \(round)".utf8))
        }
        let stderr = peer.finish()
        #expect(peer.process.terminationStatus == 0, "noise_peer.py: \(stderr)")
    }
}
