// `commucat-bench`: the benchmarks users run (SPEC §1). Each benchmark arrives with its issue; until
// then the command says what is missing rather than pretending.
import ArgumentParser
import Foundation
import Ops

@main
struct CommucatBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commucat-bench",
        abstract: "CommuCat benchmarks: codecs, sfu, noise, messaging (see docs/BENCHMARKS.md).",
        version: CommuCatServer.version
    )

    @Argument(help: "The benchmark: codecs, sfu, noise or messaging.") var benchmark: String?

    func run() throws {
        guard let benchmark else { throw CleanExit.helpRequest(self) }
        FileHandle.standardError.write(Data("commucat-bench: '\(benchmark)' is not built yet (see README's feature table)\n".utf8))
        Foundation.exit(1)
    }
}
