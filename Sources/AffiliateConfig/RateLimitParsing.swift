import AffiliateCore

extension RateLimit {
    /// Parses `600/min`, `10/s` or `3600/h` (at least one request per window); `nil` for
    /// anything else. The config reads `rate_limit:` with it, and the CLI its flags.
    public init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let count = text[..<slash]
        let window: Int
        switch text[text.index(after: slash)...] {
        case "s": window = 1
        case "min": window = 60
        case "h": window = 3600
        default: return nil
        }
        guard !count.isEmpty, count.allSatisfy(\.isASCIIDigit), let requests = Int(count), requests >= 1 else {
            return nil
        }
        self.init(requests: requests, windowSeconds: window)
    }
}
