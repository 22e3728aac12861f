import AffiliateCore

extension ListenAddress {
    /// Parses `HOST:PORT`, `[v6]:PORT` or `unix:PATH`; port 0 asks the system for a free one.
    /// Returns why the text is not an address otherwise.
    static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { return .failure(.init("unix: needs a socket path (unix:data/admin.sock)")) }
            return .success(.unix(path: path))
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return .failure(.init("\"\(text)\" has no closing \"]\" after the IPv6 address"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return .failure(.init("\"\(text)\" needs a port after the address ([::1]:3000)")) }
            portText = rest.dropFirst()
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return .failure(.init("\"\(host)\" is not an IPv6 address"))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                return .failure(.init("\"\(text)\" is not HOST:PORT, [IPv6]:PORT or unix:PATH"))
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.isEmpty else {
                return .failure(.init("\"\(text)\" has no host (use 127.0.0.1, or 0.0.0.0 for every interface)"))
            }
            guard !host.contains(":") else {
                return .failure(.init("IPv6 addresses go in brackets: [\(host)]:\(portText)"))
            }
            let allowed = host.unicodeScalars.allSatisfy { scalar in
                scalar.properties.isASCIIHexDigit || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                    || scalar == "." || scalar == "-" || scalar == "_"
            }
            guard allowed else { return .failure(.init("\"\(host)\" is not a host name or IP address")) }
        }
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText) else {
            return .failure(.init("\"\(portText)\" is not a port number (0...65535)"))
        }
        guard port <= 65535 else { return .failure(.init("port \(port) is out of range 0...65535")) }
        return .success(.tcp(host: String(host), port: port))
    }

    var isTCP: Bool { if case .tcp = self { return true } else { return false } }
}

struct ListenAddressError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
