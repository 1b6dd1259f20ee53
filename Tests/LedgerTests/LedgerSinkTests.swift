import Foundation
import Logging
import Synchronization
import Testing

@testable import Ledger

@Suite struct LedgerSinkTests {
    @Test func debugSinkLogsEachLineAtDebugLevel() async throws {
        let captured = CapturedLogs()
        var logger = Logger(label: "test.ledger") { _ in captured }
        logger.logLevel = .debug
        let ledger = try Ledger.open(mode: .debug, path: "", logger: logger)
        let record = try #require(ledger.record(scope: .admin, result: "ok", fields: ["who": "root"]))
        try await ledger.close()
        let messages = captured.entries.withLock { $0 }
        #expect(messages.count == 1)
        #expect(messages.first?.level == .debug)
        #expect(messages.first?.message == String(decoding: record.encodedLine(), as: UTF8.self))
    }

    @Test func nullSinkDiscardsButStillChains() async throws {
        let ledger = try Ledger.open(mode: .null, path: "")
        let first = try #require(ledger.record(scope: .admin, result: "ok"))
        let second = try #require(ledger.record(scope: .admin, result: "ok"))
        #expect(second.prev == first.lineDigest())
        #expect(ledger.tail.nextSeq == 2)
        try await ledger.close()
    }

    @Test func genesisTailIsSeqZeroAndZeros() {
        #expect(LedgerChainTail.genesis.nextSeq == 0)
        #expect(LedgerChainTail.genesis.prev == String(repeating: "0", count: 64))
        #expect(NullLedgerSink().tail == .genesis)
    }
}

/// A swift-log handler that keeps every entry.
final class CapturedLogs: LogHandler, Sendable {
    let entries = Mutex<[(level: Logger.Level, message: String)]>([])

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        entries.withLock { $0.append((event.level, event.message.description)) }
    }
}
