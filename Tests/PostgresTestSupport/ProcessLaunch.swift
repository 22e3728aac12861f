import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts Foundation `Process`es one at a time across the whole test process.
///
/// Tests run in parallel, and two `Process.run()` calls at once crashed the test process inside
/// Foundation (a segmentation fault in `memcpy` under `Process.run`, during a CI run). Only the
/// launch is serialised; the children then run and are waited for concurrently.
///
/// That was not the whole story: `Process.run()` of the installed Foundation lists
/// `/proc/self/fd` and copies each directory entry as a whole 256-byte `d_name`, reading past
/// glibc's directory buffer (fixed upstream in swift-corelibs-foundation #5472). With 1,300 and
/// more descriptors open, as when many servers of parallel tests run at once (1,685 measured),
/// the last entry can end that buffer at an unmapped page, and the copy crashes: a CI run died
/// at descriptor 1355. So the test process has glibc serve allocations of 32 KiB and more with
/// their own mappings: the directory buffer then ends a page-rounded mapping with 4 KiB of slack
/// after it, which the over-read stays inside.
package enum ProcessLaunch {
    private static let lock = NSLock()

    private static let directoryBuffersHaveSlack: Void = {
        #if canImport(Glibc)
        // `mallopt` and `M_MMAP_THRESHOLD` (-3) come from <malloc.h>, which the Glibc module
        // does not import.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-3, 32 * 1024)
        #endif
    }()

    package static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        _ = directoryBuffersHaveSlack
        try process.run()
    }
}
