import AffiliateServer
import ArgumentParser
import Logging

/// `--log-level` and `--log-format`, shared by the commands that log.
struct LogOptions: ParsableArguments {
    enum Format: String, CaseIterable, ExpressibleByArgument {
        /// `timestamp level label: key=value … [source] message`, for people.
        case text
        /// One JSON object per line, for log shippers.
        case json
    }

    @Option(help: "Minimum log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log line format: text or json (one object per line).")
    var logFormat: Format = .text

    func bootstrap(label: String) -> Logger {
        let level = logLevel
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = switch format {
            case .text: StreamLogHandler.standardError(label: label)
            case .json: JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }

    /// The request log, laid out for this format's handler; call after ``bootstrap(label:)``.
    func accessLog() -> AccessLog {
        AccessLog(logger: Logger(label: "affhost.access"), layout: logFormat == .json ? .metadata : .message)
    }
}

/// `on` or `off`, for the parts of `serve` an operator may switch off.
enum Switch: String, CaseIterable, ExpressibleByArgument {
    case on, off
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
