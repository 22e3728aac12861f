import AffiliateOpenAPI
import ArgumentParser
import Foundation

/// Prints a dialect's OpenAPI 3.1 document, so client teams can generate clients and tools can
/// hold the server to it; the running host serves the same text on its admin listener.
struct OpenAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Print a dialect's OpenAPI 3.1 document.",
        discussion: """
            The document is built from the dialect's route table, the one its routes are
            served from. Known dialects: \(affhostDialects.map(\.dialect).joined(separator: ", ")).

            Examples:
              affhost openapi --dialect firstpromoter-v1 > firstpromoter-v1.json
              affhost openapi --dialect vantio-v1 --format yaml
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, yaml
    }

    @Option(help: "The dialect whose document to print (\(affhostDialects.map(\.dialect).joined(separator: ", "))).")
    var dialect: String

    @Option(help: "json or yaml.")
    var format: Format = .json

    func validate() throws {
        guard affhostDialects.contains(where: { $0.dialect == dialect }) else {
            throw ValidationError(
                "unknown dialect '\(dialect)'; known dialects: \(affhostDialects.map(\.dialect).joined(separator: ", "))"
            )
        }
    }

    func run() throws {
        guard let provider = affhostDialects.first(where: { $0.dialect == dialect }) else { throw ExitCode.validationFailure }
        let document = provider.openAPIDocument()
        switch format {
        case .json:
            FileHandle.standardOutput.write(try DocumentText.json(document) + Data("\n".utf8))
        case .yaml:
            FileHandle.standardOutput.write(Data(try DocumentText.yaml(document).utf8))
        }
    }
}
