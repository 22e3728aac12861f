import AffiliateCore
import Hummingbird

/// `GET /{resource}/{id}` for every resource: the stored data is the rendered object, so a read
/// is a lookup and a serialisation; an id of another tenant answers like a missing one.
enum RecordLookup {
    static func get(_ resource: String, notFound: VantioError, context: TenantRequestContext) async throws -> Response {
        guard let record = try await context.engine.find(resource, id: context.parameters.get("id") ?? "")
        else { throw notFound }
        return Response.json(.ok, .object(record.data))
    }
}
