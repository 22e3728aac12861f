import OpenAPIKit

/// The JSON objects Vantio answers with (spec §8): every documented key always present, `null`
/// where empty, `metadata` an object.
enum VantioSchemas {
    static func ref(_ name: String) -> JSONSchema { .reference(.component(named: name)) }

    static let timestamp = JSONSchema.string(format: .dateTime, description: "ISO 8601 UTC, second precision")
    static let nullableTimestamp = JSONSchema.string(format: .dateTime, nullable: true)
    static let nullableText = JSONSchema.string(nullable: true)
    static let metadata = JSONSchema.object(description: "Free-form client data.")

    /// A closed object in the vendor's key order; OpenAPIKit lists every property as required.
    static func record(_ properties: OrderedDictionary<String, JSONSchema>, _ description: String) -> JSONSchema {
        .object(description: description, properties: properties, additionalProperties: .a(false))
    }

    static let user = record([
        "id": .string, "first_name": .string, "last_name": .string, "email": .string, "program_id": .string,
        "profile_picture": nullableText, "created_at": timestamp, "updated_at": timestamp, "metadata": metadata,
    ], "An ambassador.")

    static let poster = record([
        "id": .string, "program_id": .string, "student_id": .string, "qr_code_url": .string, "location": nullableText,
        "created_at": timestamp, "updated_at": timestamp, "metadata": metadata,
    ], "A QR poster of an ambassador.")

    static let impression = record([
        "id": .string, "poster_id": .string, "program_id": .string, "student_id": .string, "scanned_at": timestamp,
        "user_agent": nullableText, "ip_address": nullableText, "metadata": metadata,
    ], "A scan of a poster.")

    static let referral = record([
        "id": .string, "impression_id": .string, "first_name": .string, "last_name": .string, "email": .string,
        "profile_picture": nullableText, "status": .string(description: "A word of the tenant's referral vocabulary."),
        "program_id": .string, "student_id": .string, "created_at": timestamp, "verified_at": nullableTimestamp,
        "updated_at": timestamp, "metadata": metadata,
    ], "A signup that came through an impression.")

    static let earning = record([
        "id": .string, "referral_id": .string, "amount": .integer(description: "Minor units (cents)."),
        "currency": .string(pattern: "^[A-Z]{3}$"), "type": nullableText, "description": nullableText,
        "status": .string(description: "A word of the tenant's earning vocabulary."), "reference_id": nullableText,
        "created_at": timestamp, "paid_at": nullableTimestamp, "updated_at": timestamp, "metadata": metadata,
    ], "A commission owed for a referral.")

    /// `{"error": "<reason phrase>", "message": "<text>"}`, every error's shape.
    static let error = record(["error": .string, "message": .string], "The dialect's error shape.")

    /// `{"<resource>": [...]}`: a list answer holds one key named after the resource.
    static func list(_ resource: String, _ item: String) -> JSONSchema {
        .object(properties: [resource: .array(items: ref(item))], additionalProperties: .a(false))
    }

    static let components: OpenAPI.ComponentDictionary<JSONSchema> = [
        "User": user, "Poster": poster, "Impression": impression, "Referral": referral, "Earning": earning,
        "Error": error,
    ]
}
