import AffiliateCore
import Hummingbird

/// Users, posters and impressions: loaded by the operator, only read through the API (the
/// vendor's API has no writes for them). Their filters are camelCase, the vendor's casing.
struct ReadOnlyRoutes: Sendable {
    let resource: String
    let notFound: VantioError
    /// `(query parameter, tag name)`.
    let filters: [(parameter: Substring, tag: String)]

    static let users = ReadOnlyRoutes(
        resource: VantioResource.users, notFound: VantioError(.notFound, "User not found"),
        filters: [("programId", "program_id")]
    )
    static let posters = ReadOnlyRoutes(
        resource: VantioResource.posters, notFound: VantioError(.notFound, "Poster not found"),
        filters: [("programId", "program_id"), ("studentId", "student_id")]
    )
    static let impressions = ReadOnlyRoutes(
        resource: VantioResource.impressions, notFound: VantioError(.notFound, "Impression not found"),
        filters: [("programId", "program_id"), ("posterId", "poster_id")]
    )

    func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let query = ListQuery(request)
        let page = try query.page()
        let found = try await context.engine.listData(
            resource, tags: query.tags(filters), offset: page.offset, limit: page.limit
        )
        return ListQuery.render(resource, found)
    }

    func get(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await RecordLookup.get(resource, notFound: notFound, context: context)
    }
}
