import ArgumentParser
struct ContextCommand: AsyncParsableCommand { static let configuration = CommandConfiguration(commandName: "context") }
