import Foundation

/// Starts Foundation `Process`es one at a time across the whole test process.
///
/// Tests run in parallel, and two `Process.run()` calls at once crashed the test process inside
/// Foundation (a segmentation fault in `memcpy` under `Process.run`, during a CI run). Only the
/// launch is serialised; the children then run and are waited for concurrently.
package enum ProcessLaunch {
    private static let lock = NSLock()

    package static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
