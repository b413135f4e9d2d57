import ArgumentParser

@main
struct Conduit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conduit",
        abstract: "Conduit: Dataverse-style service endpoints, self-hosted.",
        subcommands: [ContextCommand.self]
    )
}
