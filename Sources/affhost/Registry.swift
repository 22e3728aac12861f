import AffiliateCore
import AffiliateOpenAPI
import AffiliateServer
import ProviderFirstPromoter
import ProviderVantio

/// The dialects compiled into this binary. Adding a dialect is one module and one line here.
/// The list holds `DocumentedDialect`s: a dialect without an OpenAPI document does not compile in.
let affhostDialects: [any DocumentedDialect] = [
    FirstPromoterProvider(),
    VantioProvider(),
]

let affhostProviders = ProviderRegistry(affhostDialects.map { $0 as any Provider })

/// Every compiled-in dialect's document as JSON, for the admin listener's `GET /openapi/<dialect>`.
func affhostDocuments() throws -> DialectDocuments {
    var json: [String: [UInt8]] = [:]
    for dialect in affhostDialects {
        json[dialect.dialect] = Array(try DocumentText.json(dialect.openAPIDocument()))
    }
    return DialectDocuments(json: json)
}
