import AffiliateCore
import ArgumentParser
import Foundation

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make API keys and the SHA-256 lines the configuration stores instead of them.",
        subcommands: [Generate.self, Hash.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Print a new random API key once, with the lines to paste under api_keys.",
            discussion: """
                The key is printed only here; affhost stores only its SHA-256.

                Examples:
                  affhost keys generate
                  affhost keys generate --prefix fp_ --id acme-ci
                """
        )

        @Option(help: "Text the key starts with.")
        var prefix = "sk_"

        @Option(help: "The key id to put in the pasted lines.")
        var id = "new-key"

        func run() {
            let key = prefix + randomBase62(count: 40)
            print("key:    \(key)")
            print("(shown once; give it to the client now)")
            print("")
            print("paste under the tenant's api_keys:")
            print("  - id: \(id)")
            print("    sha256: \(KeyDigest.sha256Hex(key))")
        }

        /// 40 base62 characters carry ~238 bits from the system's CSPRNG.
        func randomBase62(count: Int) -> String {
            let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            var generator = SystemRandomNumberGenerator()
            return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        }
    }

    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash",
            abstract: "Read a key from standard input and print its sha256 line.",
            discussion: """
                One trailing newline is ignored, so `echo` works.

                Examples:
                  printf %s "$KEY" | affhost keys hash
                  affhost keys hash < key.txt
                """
        )

        func run() throws {
            var data = FileHandle.standardInput.readDataToEndOfFile()
            if data.last == 0x0A { data.removeLast() }
            if data.last == 0x0D { data.removeLast() }
            guard !data.isEmpty else {
                FileHandle.standardError.write(Data("affhost keys hash: no key on standard input\n".utf8))
                throw ExitCode(1)
            }
            print("sha256: \(KeyDigest.sha256Hex(bytes: data))")
        }
    }
}
