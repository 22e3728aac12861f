import AffiliateCore
import HTTPTypes
import Hummingbird

/// `page` / `per_page` of the three list endpoints and the api-pagination headers they answer with.
struct Paging: Sendable {
    static let defaultPerPage = 20
    static let maximumPerPage = 100

    let page: Int
    /// The effective page size (`per_page` capped at 100).
    let perPage: Int

    /// Parses `page` then `per_page`; a value that is not a positive decimal integer is a 422.
    init(_ parameters: Parameters) throws(FirstPromoterFailure) {
        page = try Paging.positive(parameters.nonEmpty("page"), default: 1, name: "page")
        perPage = min(
            try Paging.positive(parameters.nonEmpty("per_page"), default: Paging.defaultPerPage, name: "per_page"),
            Paging.maximumPerPage
        )
    }

    /// Rows to skip; saturates for absurd page numbers, which simply lie past the end.
    var offset: Int {
        let (product, overflow) = (page - 1).multipliedReportingOverflow(by: perPage)
        return overflow ? Int.max : product
    }

    /// `Total`, `Per-Page` and, when there is a page to point to, `Link` (`first`, `prev`,
    /// `last`, `next`), whose URLs repeat the request's filters and `per_page` as received.
    func headers(total: Int, request: Request, parameters: Parameters, filters: [String]) -> HTTPFields {
        var fields = HTTPFields()
        fields[Paging.total] = String(total)
        fields[Paging.perPageHeader] = String(perPage)
        let totalPages = total / perPage + (total % perPage == 0 ? 0 : 1)
        var links: [(page: Int, rel: String)] = []
        if page > 1 {
            links.append((1, "first"))
            links.append((page - 1, "prev"))
        }
        if page < totalPages {
            links.append((totalPages, "last"))
            links.append((page + 1, "next"))
        }
        guard !links.isEmpty else { return fields }

        var kept: [(name: String, value: String)] = []
        for name in filters + ["per_page"] {
            if let value = parameters.nonEmpty(name) { kept.append((name, value)) }
        }
        let base = (request.head.scheme ?? "http") + "://" + (request.head.authority ?? "") + request.uri.path
        fields[Paging.link] = links.map { link in
            var query = kept
            query.append(("page", String(link.page)))
            query.sort { $0.name < $1.name }
            let text = query.map { FormDecoding.percentEncoded($0.name) + "=" + FormDecoding.percentEncoded($0.value) }
            return "<\(base)?\(text.joined(separator: "&"))>; rel=\"\(link.rel)\""
        }.joined(separator: ", ")
        return fields
    }

    private static func positive(_ text: String?, default defaultValue: Int, name: String) throws(FirstPromoterFailure) -> Int {
        guard let text else { return defaultValue }
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .unprocessable("\(name) must be a positive integer.")
        }
        // All digits: only overflow makes Int(text) fail, and such a page lies past any end.
        let value = Int(text) ?? Int.max
        guard value >= 1 else { throw .unprocessable("\(name) must be a positive integer.") }
        return value
    }

    private static let total = HTTPField.Name("Total")!
    private static let perPageHeader = HTTPField.Name("Per-Page")!
    private static let link = HTTPField.Name("Link")!
}
