import Ledger

extension OpsCommands {
    /// `commucat ledger verify FILE`: prints one line; exit 1 when the chain is broken.
    public static func ledgerVerify(path: String) throws(CommandFailure) {
        let result = verifyLedger(at: path)
        guard result.isIntact else {
            throw CommandFailure(
                result.description,
                hint: "the ledger was modified, truncated or reordered after it was written; keep this file as evidence")
        }
        print(result.description)
    }
}
