import ArgumentParser

@main
struct Runner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Run declarative experiment pipelines with content-addressed caching and resume.",
        discussion: """
            A pipeline is a JSON file of named stages (see README.md). 'runner run' executes what is not \
            cached yet; everything else inspects a pipeline or the workspace's store and ledger.
            """,
        version: RunnerVersion.string,
        subcommands: [RunCommand.self, ValidateCommand.self, StatusCommand.self, ExplainCommand.self, WhyCommand.self,
                      DagCommand.self, ShowCommand.self, DiffCommand.self, GCCommand.self, VerifyCommand.self, KindsCommand.self, WorkerCommand.self]
    )
}

enum RunnerVersion {
    static let string = "0.1.0"
}
