import Foundation

/// Checks a webhook `url` (webhooks.md §2, §7) without echoing it: a URL with user info may
/// carry a password, which must not reach `check`'s output or a log.
enum WebhookURLValidation {
    static let example = "https://crm.example.com/hooks"

    /// `nil` when the URL is an absolute `http`/`https` URL with a host and without user info or
    /// fragment; otherwise what is wrong with it.
    static func problem(in url: String) -> String? {
        guard let components = URLComponents(string: url) else {
            return "not a valid URL: expected an absolute http or https URL (\(example))"
        }
        guard let scheme = components.scheme else {
            return "expected an absolute http or https URL (\(example))"
        }
        guard ["http", "https"].contains(scheme.lowercased()) else {
            return "unsupported url scheme \"\(scheme)\": expected http or https (\(example))"
        }
        guard components.user == nil, components.password == nil else {
            return "the url must not hold user info (user:password@): receivers authenticate affhost by its signatures"
        }
        guard let host = components.host, !host.isEmpty else {
            return "the url has no host (\(example))"
        }
        guard components.fragment == nil else {
            return "the url must not have a fragment (#...): it is never sent"
        }
        return nil
    }
}
