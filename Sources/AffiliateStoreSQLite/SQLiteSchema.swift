import GRDB

/// The versioned schema of an affhost SQLite file.
///
/// Migrations are only ever appended ("v2", "v3", ...): a file records which ones it has, so an
/// older binary can tell that a file was written by a newer one and refuse it instead of
/// misreading it.
enum SQLiteSchema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: createVersion1)
        migrator.registerMigration("v2", migrate: countTagsPerStatus)
        migrator.registerMigration("v3", migrate: keepAmountTotals)
        migrator.registerMigration("v4", migrate: keepWebhookOutbox)
        migrator.registerMigration("v5", migrate: indexOnlyQueuedDeliveries)
        return migrator
    }()

    /// Every table is keyed by tenant first, so every statement names its tenant and every index
    /// keeps tenants apart.
    ///
    /// - `record` keeps each record whole (`data` and `tags` as compact JSON) so that a read is
    ///   one row; `record_order` and `record_status_order` serve list pages in index order.
    /// - `record_tag` is the tag index: one row per distinct (name, value) of a record, carrying
    ///   the record's sort key so that a tag-filtered page is read in order from its primary key.
    /// - `record_tally` keeps running counts so that totals and status counts cost one row
    ///   however large a resource grows (see ``countTagsPerStatus(_:)`` for its current form).
    private static func createVersion1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE record (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    id TEXT NOT NULL,
                    status TEXT,
                    sort_key TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    tags TEXT NOT NULL
                );
                CREATE UNIQUE INDEX record_identity ON record(tenant, resource, id);
                CREATE INDEX record_order ON record(tenant, resource, sort_key, id);
                CREATE INDEX record_status_order ON record(tenant, resource, status, sort_key, id);

                CREATE TABLE record_tag (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    sort_key TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    PRIMARY KEY (tenant, resource, name, value, sort_key, record_id)
                ) WITHOUT ROWID;

                CREATE TABLE record_tally (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    facet INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (tenant, resource, facet, name, value)
                ) WITHOUT ROWID;

                CREATE TABLE claim (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    PRIMARY KEY (tenant, resource, name, value)
                ) WITHOUT ROWID;

                CREATE TABLE audit_event (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    key_id TEXT NOT NULL,
                    request_id TEXT NOT NULL
                );
                CREATE INDEX audit_event_record ON audit_event(tenant, resource, record_id);

                CREATE TABLE idempotency_entry (
                    tenant TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    payload_digest TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, scope, key)
                ) WITHOUT ROWID;

                CREATE TABLE sequence (
                    tenant TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value INTEGER NOT NULL,
                    PRIMARY KEY (tenant, name)
                ) WITHOUT ROWID;
                """
        )
    }

    /// v2: tallies also count each tag per status, so that a list filtered by one tag and a
    /// status ("pending payouts of campaign 7") has its total in one row too. Tallies are
    /// derived data: the table is rebuilt from the records and their tags.
    private static func countTagsPerStatus(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TABLE record_tally;
                CREATE TABLE record_tally (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    facet INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    status TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (tenant, resource, facet, name, value, status)
                ) WITHOUT ROWID;

                INSERT INTO record_tally (tenant, resource, facet, name, value, status, count)
                SELECT tenant, resource, 0, '', '', '', count(*) FROM record GROUP BY tenant, resource;

                INSERT INTO record_tally (tenant, resource, facet, name, value, status, count)
                SELECT tenant, resource, 1, '', '', status, count(*) FROM record WHERE status IS NOT NULL
                GROUP BY tenant, resource, status;

                INSERT INTO record_tally (tenant, resource, facet, name, value, status, count)
                SELECT tenant, resource, 2, name, value, '', count(*) FROM record_tag
                GROUP BY tenant, resource, name, value;

                INSERT INTO record_tally (tenant, resource, facet, name, value, status, count)
                SELECT t.tenant, t.resource, 3, t.name, t.value, r.status, count(*)
                FROM record_tag t JOIN record r ON r.tenant = t.tenant AND r.resource = t.resource AND r.id = t.record_id
                WHERE r.status IS NOT NULL
                GROUP BY t.tenant, t.resource, t.name, t.value, r.status;
                """
        )
    }

    /// v3: records keep their ``Amount`` apart from `data`, and `record_sum` keeps running totals
    /// of amounts per tag, status and unit, so that a promoter's balances are a few rows however
    /// long its history. `sum_high * 2^32 + sum_low` is the exact 128-bit sum: each write adds
    /// its parts and carries the low part's overflow in the same statement
    /// (``SQLiteAmountTotals``), so no read comes before it. Existing records get their amounts
    /// from the dialects' rules at the next start (``SQLiteStore/deriveAmounts(_:)``), which
    /// `store_note` then remembers.
    private static func keepAmountTotals(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE record ADD COLUMN amount TEXT;
                ALTER TABLE record ADD COLUMN amount_unit TEXT;
                ALTER TABLE record ADD COLUMN amount_totals_by TEXT;

                CREATE TABLE record_sum (
                    tenant TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    status TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    sum_high INTEGER NOT NULL,
                    sum_low INTEGER NOT NULL,
                    PRIMARY KEY (tenant, resource, name, value, status, unit)
                ) WITHOUT ROWID;

                CREATE TABLE store_note (
                    name TEXT NOT NULL PRIMARY KEY
                ) WITHOUT ROWID;
                """
        )
    }

    /// v4: the webhook outbox (webhooks.md §5). `webhook_event` keeps each event's body as it
    /// will be sent; `webhook_delivery` one row per (event, endpoint) with its state, schedule
    /// and lease; `webhook_attempt` every request made; `webhook_pause` the endpoints a 410
    /// paused, with the URL that answered it. Times are Unix microseconds.
    private static func keepWebhookOutbox(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE webhook_event (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    public_id TEXT NOT NULL UNIQUE,
                    tenant TEXT NOT NULL,
                    type TEXT NOT NULL,
                    resource TEXT NOT NULL,
                    record_id TEXT NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    at INTEGER NOT NULL,
                    body BLOB NOT NULL
                );
                CREATE INDEX webhook_event_time ON webhook_event(at);

                CREATE TABLE webhook_delivery (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER NOT NULL,
                    tenant TEXT NOT NULL,
                    endpoint_id TEXT NOT NULL,
                    record_key TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    schedule_base INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER,
                    last_attempt_at INTEGER,
                    response_code INTEGER,
                    response_body TEXT,
                    last_error TEXT,
                    created_at INTEGER NOT NULL,
                    delivered_at INTEGER,
                    lease_owner TEXT,
                    lease_token TEXT,
                    lease_until INTEGER
                );
                CREATE INDEX webhook_delivery_due ON webhook_delivery(state, next_attempt_at);
                CREATE INDEX webhook_delivery_order ON webhook_delivery(tenant, endpoint_id, record_key, event_seq);
                CREATE INDEX webhook_delivery_event ON webhook_delivery(event_seq);

                CREATE TABLE webhook_attempt (
                    delivery_id INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    duration_us INTEGER NOT NULL,
                    response_code INTEGER,
                    error TEXT,
                    response_body TEXT
                );
                CREATE INDEX webhook_attempt_delivery ON webhook_attempt(delivery_id);

                CREATE TABLE webhook_pause (
                    tenant TEXT NOT NULL,
                    endpoint_id TEXT NOT NULL,
                    url TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, endpoint_id)
                ) WITHOUT ROWID;
                """
        )
    }

    /// v5: the two indexes the delivery worker reads hold only queued deliveries (`pending`,
    /// `retrying`). A delivery enters them when its event commits and leaves them when it is
    /// delivered, so they stay a few pages however long the log of finished deliveries grows,
    /// and a group commit of many events writes those few pages instead of one page per record
    /// scattered over an index of every delivery ever made.
    private static func indexOnlyQueuedDeliveries(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP INDEX webhook_delivery_due;
                DROP INDEX webhook_delivery_order;
                CREATE INDEX webhook_delivery_due ON webhook_delivery(next_attempt_at)
                  WHERE state IN ('pending', 'retrying');
                CREATE INDEX webhook_delivery_order ON webhook_delivery(tenant, endpoint_id, record_key, event_seq)
                  WHERE state IN ('pending', 'retrying');
                """
        )
    }
}
