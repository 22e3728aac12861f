public import HTTPTypes
public import OpenAPIKit

/// Turns a dialect's route table into the document's paths.
///
/// Route tables hold Hummingbird paths (`/api/v1/users/:id`) and HTTP methods as the router
/// sees them; the document needs OpenAPI templates (`/api/v1/users/{id}`) and OpenAPIKit's
/// methods. Both views come from the one table, so they cannot disagree.
public enum RoutePaths {
    /// `:id` segments become `{id}`; everything else is kept.
    public static func template(_ routerPath: String) -> String {
        routerPath.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.first == ":" ? "{" + segment.dropFirst() + "}" : String(segment)
        }.joined(separator: "/")
    }

    public static func method(_ method: HTTPRequest.Method) -> OpenAPI.HttpMethod {
        OpenAPI.HttpMethod(rawValue: method.rawValue) ?? .other(method.rawValue)
    }

    /// One path item per path, in table order, each holding the operations of its routes.
    public static func map(
        _ routes: [(method: HTTPRequest.Method, path: String, operation: OpenAPI.Operation)]
    ) -> OpenAPI.PathItem.Map {
        var items: OrderedDictionary<String, OpenAPI.PathItem> = [:]
        for route in routes {
            let path = template(route.path)
            var item = items[path] ?? OpenAPI.PathItem()
            item.set(operation: route.operation, for: method(route.method))
            items[path] = item
        }
        var map: OpenAPI.PathItem.Map = [:]
        for (path, item) in items { map[OpenAPI.Path(rawValue: path)] = .b(item) }
        return map
    }
}
