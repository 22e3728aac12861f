import AffiliateCore
import AffiliateOpenAPI
import AffiliateServer
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIKit
import Testing

@testable import affhost

/// Each compiled-in dialect's OpenAPI document against what the dialect really serves: the same
/// routes, every operation reachable on the demo server, a valid 3.1 document, and the same text
/// from the CLI and the admin listener.
@Suite struct OpenAPIDocumentTests {
    static let dialects = affhostDialects.map(\.dialect)

    static func dialect(_ name: String) throws -> any DocumentedDialect {
        try #require(affhostDialects.first { $0.dialect == name })
    }

    /// `(method, OpenAPI path)` of every operation in the document.
    static func documentedRoutes(_ document: OpenAPI.Document) -> [(method: String, path: String, operation: OpenAPI.Operation)] {
        document.paths.flatMap { path, item -> [(String, String, OpenAPI.Operation)] in
            guard let item = item.b else { return [] }
            return item.endpoints.map { ($0.method.rawValue, path.rawValue, $0.operation) }
        }
    }

    @Test(arguments: dialects)
    func everyServedRouteIsDocumentedAndEveryDocumentedRouteIsServed(_ name: String) throws {
        let provider = try Self.dialect(name)
        let router = Router(context: TenantRequestContext.self)
        provider.addRoutes(to: router)
        let served = router.routes.map { "\($0.method.rawValue) \(RoutePaths.template($0.path.description))" }
        let documented = Self.documentedRoutes(provider.openAPIDocument()).map { "\($0.method) \($0.path)" }
        #expect(!served.isEmpty)
        #expect(Set(served).count == served.count)
        #expect(Set(documented).count == documented.count)
        #expect(Set(served) == Set(documented))
    }

    @Test func theRouteCountsAreTheSpecsEndpoints() throws {
        // firstpromoter-v1 §1: 11 endpoints, each also under `.json`; vantio-v1 §1: 14.
        #expect(Self.documentedRoutes(try Self.dialect("firstpromoter-v1").openAPIDocument()).count == 22)
        #expect(Self.documentedRoutes(try Self.dialect("vantio-v1").openAPIDocument()).count == 14)
    }

    @Test(arguments: dialects)
    func theDocumentIsAValidOpenAPI31Document(_ name: String) throws {
        let document = try Self.dialect(name).openAPIDocument()
        #expect(document.openAPIVersion == .v3_1_1)
        let warnings = try document.validate()
        #expect(warnings.isEmpty)
        // It survives a round trip through its own JSON.
        let decoded = try JSONDecoder().decode(OpenAPI.Document.self, from: try DocumentText.json(document))
        #expect(Set(decoded.allOperationIds) == Set(document.allOperationIds))
        #expect(document.allOperationIds.count == Self.documentedRoutes(document).count)
    }

    @Test func theCredentialSchemesAreTheDialects() throws {
        let firstPromoter = try Self.dialect("firstpromoter-v1").openAPIDocument()
        guard case .b(let apiKey)? = firstPromoter.components.securitySchemes["apiKey"],
              case .apiKey(let header, let location) = apiKey.type
        else { Issue.record("no apiKey scheme"); return }
        #expect(header == "X-API-KEY")
        #expect(location == .header)
        let vantio = try Self.dialect("vantio-v1").openAPIDocument()
        guard case .b(let bearer)? = vantio.components.securitySchemes["bearer"], case .http(let scheme, _) = bearer.type
        else { Issue.record("no bearer scheme"); return }
        #expect(scheme == "bearer")
    }

    /// What each operation answers on the demo data with the request below: proof that the
    /// route is reached (a route miss would be the dialect's 404/405).
    static let expectedStatus: [String: Int] = [
        "listPayouts": 200, "createPayout": 422, "updatePayout": 200, "createPromoter": 422, "updatePromoter": 200,
        "listPromoters": 200, "showPromoter": 200, "deletePromoter": 404, "createReward": 422, "listRewards": 200,
        "updateReward": 200,
        "listUsers": 200, "getUser": 200, "listPosters": 200, "getPoster": 200, "listImpressions": 200,
        "getImpression": 200, "listReferrals": 200, "createReferral": 400, "getReferral": 200, "updateReferral": 200,
        "listEarnings": 200, "createEarning": 400, "getEarning": 200, "updateEarning": 200,
    ]

    /// Seed records of the demo fixtures, by the resource a Vantio path names.
    static let vantioSeedIDs = [
        "users": "user_123abc", "posters": "poster_123abc", "impressions": "imp_456def", "referrals": "ref_123abc",
        "earnings": "earn_123abc",
    ]

    /// FirstPromoter parameters that name demo records; `deletePromoter` names a promoter that
    /// does not exist, so the demo keeps its data (404 `Promoter not found.`, not a route miss).
    static func firstPromoterQuery(_ operationID: String) -> String {
        switch operationID {
        case "updatePayout": "?id=2709870"
        case "updatePromoter", "showPromoter": "?id=8262622"
        case "deletePromoter": "?id=1"
        case "updateReward": "?id=5101001"
        default: ""
        }
    }

    @Test func everyDocumentedOperationIsReachableOnTheDemoServer() async throws {
        try await TestHost.runDemo { host in
            for provider in affhostDialects {
                let document = provider.openAPIDocument()
                let routes = Self.documentedRoutes(document)
                #expect(!routes.isEmpty)
                for route in routes {
                    let operationID = try #require(route.operation.operationId)
                    let baseID = operationID.hasSuffix("Json") ? String(operationID.dropLast(4)) : operationID
                    let expected = try #require(Self.expectedStatus[baseID], "no expectation for \(operationID)")
                    let method = try #require(HTTPRequest.Method(route.method))
                    let response: TestResponse
                    if provider.dialect == "vantio-v1" {
                        var path = route.path
                        if path.hasSuffix("/{id}") {
                            let resource = path.split(separator: "/")[2]
                            path = path.replacingOccurrences(of: "{id}", with: try #require(Self.vantioSeedIDs[String(resource)]))
                        }
                        response = try await host.send(
                            method, path,
                            headers: ["Authorization": "Bearer sk_your_secret_key_here", "Content-Type": "application/json"],
                            body: method == .get ? nil : "{}"
                        )
                        #expect(response.body != #"{"error":"Not Found","message":"Route not found"}"#)
                    } else {
                        response = try await host.send(
                            method, route.path + Self.firstPromoterQuery(baseID), headers: ["X-API-KEY": "fp_test_key_acme"]
                        )
                        #expect(response.body != #"{"error":"Not found."}"#)
                    }
                    #expect(response.status == expected, "\(route.method) \(route.path): \(response.status) \(response.body)")
                    let documented = route.operation.responses.keys.map(\.rawValue)
                    #expect(documented.contains(String(response.status)), "\(operationID) does not document \(response.status)")
                }
            }
        }
    }

    @Test(arguments: dialects)
    func theCommandPrintsTheDocument(_ name: String) throws {
        let result = try AffhostProcess.run(["openapi", "--dialect", name], in: TestHost.repositoryRoot)
        #expect(result.status == 0)
        let expected = String(decoding: try DocumentText.json(try Self.dialect(name).openAPIDocument()), as: UTF8.self)
        #expect(result.standardOutput == expected + "\n")

        let yaml = try AffhostProcess.run(["openapi", "--dialect", name, "--format", "yaml"], in: TestHost.repositoryRoot)
        #expect(yaml.status == 0)
        #expect(yaml.standardOutput.hasPrefix("openapi: 3.1.1\n"))
    }

    @Test func anUnknownDialectIsAUsageError() throws {
        let result = try AffhostProcess.run(["openapi", "--dialect", "tapfiliate-v1"], in: TestHost.repositoryRoot)
        #expect(result.status == 64)
        #expect(result.standardOutput == "")
        #expect(result.standardError.contains("unknown dialect 'tapfiliate-v1'; known dialects: firstpromoter-v1, vantio-v1"))

        let bad = try AffhostProcess.run(["openapi", "--dialect", "vantio-v1", "--format", "xml"], in: TestHost.repositoryRoot)
        #expect(bad.status == 64)
    }

    @Test func theAdminListenerServesEachDocument() async throws {
        try await TestHost.runDemo { host in
            let admin = host.adminClient()
            for provider in affhostDialects {
                let reply = try await admin.get("/openapi/" + provider.dialect)
                #expect(reply.status == 200)
                #expect(reply.body == (try JSONValue(parsing: Array(DocumentText.json(provider.openAPIDocument())))))
            }
            let unknown = try await admin.get("/openapi/tapfiliate-v1")
            #expect(unknown.status == 404)
            #expect(unknown.body == .object([
                "error": .string("unknown dialect 'tapfiliate-v1'; known dialects: firstpromoter-v1, vantio-v1")
            ]))
            // Never on the public listener: there it is an unknown path in the dialect's shape.
            let public404 = try await host.send(.get, "/openapi/vantio-v1", headers: ["X-API-KEY": "fp_test_key_acme"])
            #expect(public404.status == 404)
            #expect(public404.body == #"{"error":"Not found."}"#)
        }
    }
}
