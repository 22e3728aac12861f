import AffiliateCore
import Logging
import PostgresNIO

/// The schema, as numbered steps applied in order at open and recorded in `schema_migrations`.
///
/// Steps are never edited once released: a database carries the steps it ran, and a new binary
/// only appends. Text that is compared or ordered is `COLLATE "C"` so that list order is byte
/// order, exactly as in SQLite, whatever locale the cluster was created with. Instants are
/// microseconds since 1970 (`bigint`), the engine's own resolution, so nothing rounds.
enum PostgresMigrations {
    struct Migration: Sendable {
        let version: Int32
        let statements: [String]
    }

    /// Serialises migrations of every affhost instance on this database (the text "affhost").
    static let advisoryLockKey: Int64 = 0x6166_6668_6F73_74

    static let all: [Migration] = [
        Migration(version: 1, statements: [
            """
            CREATE TABLE records (
                tenant text COLLATE "C" NOT NULL,
                resource text COLLATE "C" NOT NULL,
                id text COLLATE "C" NOT NULL,
                status text COLLATE "C",
                sort_key text COLLATE "C" NOT NULL,
                version bigint NOT NULL CHECK (version > 0),
                data text NOT NULL,
                tags text[] NOT NULL DEFAULT '{}',
                PRIMARY KEY (tenant, resource, id)
            )
            """,
            "CREATE INDEX records_in_order ON records (tenant, resource, sort_key, id)",
            "CREATE INDEX records_by_status ON records (tenant, resource, status, sort_key, id)",
            "CREATE INDEX records_by_tags ON records USING gin (tags)",
            """
            COMMENT ON COLUMN records.data IS 'the record as its dialect renders it: a JSON object whose key order matters, hence text and not jsonb'
            """,
            """
            COMMENT ON COLUMN records.tags IS 'filterable attributes in record order, each the JSON array ["name","value"]'
            """,
            """
            CREATE TABLE claims (
                tenant text COLLATE "C" NOT NULL,
                resource text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                value text COLLATE "C" NOT NULL,
                record_id text COLLATE "C" NOT NULL,
                PRIMARY KEY (tenant, resource, name, value)
            )
            """,
            """
            CREATE TABLE audit_events (
                tenant text COLLATE "C" NOT NULL,
                resource text COLLATE "C" NOT NULL,
                record_id text COLLATE "C" NOT NULL,
                seq bigint GENERATED ALWAYS AS IDENTITY,
                from_status text,
                to_status text NOT NULL,
                at bigint NOT NULL,
                key_id text NOT NULL,
                request_id text NOT NULL,
                PRIMARY KEY (tenant, resource, record_id, seq)
            )
            """,
            "COMMENT ON COLUMN audit_events.at IS 'microseconds since 1970-01-01 UTC'",
            """
            CREATE TABLE idempotency_keys (
                tenant text COLLATE "C" NOT NULL,
                scope text COLLATE "C" NOT NULL,
                key text COLLATE "C" NOT NULL,
                payload_digest text NOT NULL,
                record_id text NOT NULL,
                expires_at bigint NOT NULL,
                PRIMARY KEY (tenant, scope, key)
            )
            """,
            "COMMENT ON COLUMN idempotency_keys.expires_at IS 'microseconds since 1970-01-01 UTC'",
            """
            CREATE TABLE sequences (
                tenant text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                value bigint NOT NULL,
                PRIMARY KEY (tenant, name)
            )
            """,
        ]),
        // Amounts apart from `data`, with running totals per tag, status and unit (exact:
        // `numeric`), so that nested sums read a few rows. Existing records get their amounts
        // once from the dialects' rules (`deriveAmounts`), which `store_notes` remembers.
        Migration(version: 2, statements: [
            """
            ALTER TABLE records ADD COLUMN amount numeric, ADD COLUMN amount_unit text COLLATE "C",
                ADD COLUMN amount_totals_by text[]
            """,
            """
            CREATE TABLE record_sums (
                tenant text COLLATE "C" NOT NULL,
                resource text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                value text COLLATE "C" NOT NULL,
                status text COLLATE "C" NOT NULL,
                unit text COLLATE "C" NOT NULL,
                count bigint NOT NULL,
                sum numeric NOT NULL,
                PRIMARY KEY (tenant, resource, name, value, status, unit)
            )
            """,
            "COMMENT ON COLUMN record_sums.status IS 'the status word; empty for records without one'",
            "CREATE TABLE store_notes (name text PRIMARY KEY)",
        ]),
        // The webhook outbox (webhooks.md §5), as SQLite's v4 keeps it: `webhook_events` each
        // event's body as it will be sent, numbered by `webhook_events_seq`, which a commit reads
        // before the insert because the body carries the number; `webhook_deliveries` one row
        // per (event, endpoint) with its state, schedule and lease; `webhook_attempts` every
        // request made; `webhook_pauses` the endpoints a 410 paused, with the URL that answered.
        // The two delivery indexes serve the lease statement: due rows by state and time, and
        // the earlier event of the same record to the same endpoint (§5.4-5.5).
        Migration(version: 3, statements: [
            "CREATE SEQUENCE webhook_events_seq AS bigint",
            """
            CREATE TABLE webhook_events (
                seq bigint PRIMARY KEY DEFAULT nextval('webhook_events_seq'),
                public_id text COLLATE "C" NOT NULL UNIQUE,
                tenant text COLLATE "C" NOT NULL,
                type text COLLATE "C" NOT NULL,
                resource text COLLATE "C" NOT NULL,
                record_id text COLLATE "C" NOT NULL,
                from_status text,
                to_status text,
                at bigint NOT NULL,
                body bytea NOT NULL
            )
            """,
            "ALTER SEQUENCE webhook_events_seq OWNED BY webhook_events.seq",
            "CREATE INDEX webhook_events_time ON webhook_events (at)",
            "COMMENT ON COLUMN webhook_events.at IS 'commit time, microseconds since 1970-01-01 UTC'",
            """
            CREATE TABLE webhook_deliveries (
                id bigserial PRIMARY KEY,
                event_seq bigint NOT NULL,
                tenant text COLLATE "C" NOT NULL,
                endpoint_id text COLLATE "C" NOT NULL,
                record_key text COLLATE "C" NOT NULL,
                state text COLLATE "C" NOT NULL
                    CHECK (state IN ('pending', 'retrying', 'delivered', 'failed', 'cancelled')),
                attempts integer NOT NULL DEFAULT 0,
                schedule_base integer NOT NULL DEFAULT 0,
                next_attempt_at bigint,
                last_attempt_at bigint,
                response_code integer,
                response_body text,
                last_error text,
                created_at bigint NOT NULL,
                delivered_at bigint,
                lease_owner text,
                lease_token text,
                lease_until bigint
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at)",
            "CREATE INDEX webhook_deliveries_order ON webhook_deliveries (tenant, endpoint_id, record_key, event_seq)",
            "CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq)",
            """
            COMMENT ON COLUMN webhook_deliveries.schedule_base IS 'attempts made before the retry schedule last started (an operator retry starts it anew)'
            """,
            """
            CREATE TABLE webhook_attempts (
                id bigserial PRIMARY KEY,
                delivery_id bigint NOT NULL,
                at bigint NOT NULL,
                duration_us bigint NOT NULL,
                response_code integer,
                error text,
                response_body text
            )
            """,
            "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id)",
            """
            CREATE TABLE webhook_pauses (
                tenant text COLLATE "C" NOT NULL,
                endpoint_id text COLLATE "C" NOT NULL,
                url text NOT NULL,
                at bigint NOT NULL,
                PRIMARY KEY (tenant, endpoint_id)
            )
            """,
        ]),
    ]

    static var latestVersion: Int32 { all.last?.version ?? 0 }

    /// Brings the database to ``latestVersion`` in one transaction under an advisory lock, so two
    /// instances starting at once apply each step exactly once, and a failed step leaves nothing.
    /// Returns the versions it applied.
    @discardableResult
    static func apply(
        on connection: PostgresConnection, migrations: [Migration] = all, logger: Logger
    ) async throws -> [Int32] {
        let latest = migrations.last?.version ?? 0
        do {
            return try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(advisoryLockKey))", logger: logger)
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """,
                    logger: logger
                )
                var current: Int32 = 0
                let rows = try await connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger)
                for try await version in rows.decode(Int32.self) { current = version }
                if current > latest {
                    throw StoreFailure(
                        "the database schema is at version \(current), newer than the version \(latest) this affhost knows: "
                            + "upgrade affhost (an older binary must not write to a newer schema)"
                    )
                }
                var applied: [Int32] = []
                for migration in migrations where migration.version > current {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger
                    )
                    applied.append(migration.version)
                }
                return applied
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }
}
