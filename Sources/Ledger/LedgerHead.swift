/// The `<path>.head` file: the `seq` and `hash` of the last line of the current log file,
/// replaced atomically after every append. A log whose end no longer matches its head lost its
/// tail (or had it rewritten), which the chain alone cannot show.
///
/// Content: `{"seq":17,"hash":"<64 hex>"}` and a newline.
struct LedgerHead: Equatable {
    var seq: UInt64
    var hash: String

    static let maxFileBytes = 4096

    static func path(for logPath: String) -> String { logPath + ".head" }

    func encoded() -> [UInt8] {
        var out = Array(#"{"seq":"#.utf8)
        out.append(contentsOf: Array(String(seq).utf8))
        out.append(contentsOf: Array(#","hash":"#.utf8))
        JSONWriter.writeString(hash, into: &out)
        out.append(contentsOf: Array("}\n".utf8))
        return out
    }

    /// Parses a head file's bytes; `nil` when they are not a head.
    init?(parsing bytes: [UInt8]) {
        guard let value = try? JSONReader.parse(bytes, maxDepth: 1), case .object(let members) = value,
              members.count == 2,
              case .number(let seqText) = members[0].value, members[0].key == "seq",
              let seq = UInt64(seqText),
              case .string(let hash) = members[1].value, members[1].key == "hash",
              LedgerHash.isDigestHex(hash)
        else { return nil }
        self.seq = seq
        self.hash = hash
    }

    init(seq: UInt64, hash: String) {
        self.seq = seq
        self.hash = hash
    }

    init(_ record: LedgerRecord) {
        self.init(seq: record.seq, hash: record.hash)
    }
}
