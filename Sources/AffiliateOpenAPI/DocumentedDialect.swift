public import AffiliateCore
public import OpenAPIKit

/// A dialect that describes what it serves as an OpenAPI 3.1 document.
///
/// The document is built from the same route table the dialect registers its routes from, so a
/// route cannot be served without being documented. The executable lists its dialects as
/// `any DocumentedDialect`: a dialect without a document does not compile into affhost.
public protocol DocumentedDialect: Provider {
    /// The dialect's document: every served route, its parameters, bodies, responses per status
    /// code (errors in the dialect's own shapes), headers and credential scheme.
    func openAPIDocument() -> OpenAPI.Document
}
