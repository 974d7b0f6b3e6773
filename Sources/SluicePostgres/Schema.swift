// Schema: the shared store's tables, as versioned migrations. `sluice storage
// migrate` applies the missing ones, each in its own transaction under an
// advisory lock (two nodes migrating at once take turns); the stores refuse
// to work on a schema older than this binary's (run migrate) or newer (run
// the newer binary: never migrated down). Times are seconds since 1970 as
// double precision, the same instants the injected clock gives.

enum Schema {
    /// The version this binary reads and writes.
    static var current: Int { migrations.count }

    /// The advisory lock migrations hold (any constant unique to Sluice).
    static let lockKey: Int64 = 0x51_01CE

    /// Migration N (1-based) brings the schema from version N-1 to N.
    static let migrations: [[String]] = [
        // 1: credentials, AUTH failures, rate-limit counters, the quarantine index.
        [
            """
            CREATE TABLE principal (
                name text PRIMARY KEY, allow_from text NOT NULL DEFAULT '', created_at double precision NOT NULL)
            """,
            """
            CREATE TABLE credential (
                id bigserial PRIMARY KEY, principal text NOT NULL REFERENCES principal (name) ON DELETE CASCADE,
                name text NOT NULL, secret_hash bytea NOT NULL, created_at double precision NOT NULL,
                expires_at double precision, last_used_at double precision, retires_at double precision, revoked_at double precision)
            """,
            "CREATE INDEX credential_principal ON credential (principal, name)",
            // The counters are unlogged: written without WAL, so a check commits without waiting for a disk flush;
            // a crash of the database server empties them (the windows start again), which is what they are worth.
            "CREATE UNLOGGED TABLE auth_failure (key text NOT NULL, at double precision NOT NULL)",
            "CREATE INDEX auth_failure_key ON auth_failure (key, at)",
            // Records failures and returns each key's count within the window, in one round trip.
            """
            CREATE FUNCTION sluice_auth_failure(keys text[], t double precision, win double precision) RETURNS integer[]
            LANGUAGE sql AS $$
                DELETE FROM auth_failure WHERE key = ANY (keys) AND at <= t - win;
                INSERT INTO auth_failure (key, at) SELECT k, t FROM unnest(keys) AS k;
                SELECT array_agg((SELECT count(*) FROM auth_failure f WHERE f.key = u.k AND f.at > t - win)::integer ORDER BY u.n)
                FROM unnest(keys) WITH ORDINALITY AS u (k, n);
            $$
            """,
            """
            CREATE UNLOGGED TABLE rate_counter (
                key text PRIMARY KEY, start double precision NOT NULL, current double precision NOT NULL,
                previous double precision NOT NULL)
            """,
            // MemoryRateLimitCounters in SQL: two fixed windows blended into a sliding estimate; all or nothing over
            // the requests; the rows locked in key order (no deadlock between nodes). Returns the index (0-based) of the
            // first request that would go over, or -1 when all were counted.
            """
            CREATE FUNCTION sluice_admit(keys text[], windows double precision[], limits bigint[], t double precision) RETURNS integer
            LANGUAGE plpgsql AS $$
            DECLARE
                i integer;
                s double precision;
                cur double precision;
                prev double precision;
                n integer := coalesce(array_length(keys, 1), 0);
            BEGIN
                INSERT INTO rate_counter (key, start, current, previous)
                    SELECT DISTINCT k, t, 0, 0 FROM unnest(keys) AS k ORDER BY 1 ON CONFLICT (key) DO NOTHING;
                PERFORM 1 FROM rate_counter WHERE key = ANY (keys) ORDER BY key FOR UPDATE;
                FOR pass IN 1..2 LOOP
                    FOR i IN 1..n LOOP
                        SELECT r.start, r.current, r.previous INTO s, cur, prev FROM rate_counter r WHERE r.key = keys[i];
                        IF t - s >= 2 * windows[i] THEN
                            s := t; cur := 0; prev := 0;
                        ELSIF t - s >= windows[i] THEN
                            s := s + windows[i]; prev := cur; cur := 0;
                        END IF;
                        IF pass = 1 THEN
                            IF prev * (1 - least(1, greatest(0, (t - s) / windows[i]))) + cur + 1 > limits[i] THEN
                                RETURN i - 1;
                            END IF;
                        ELSE
                            UPDATE rate_counter SET start = s, current = cur + 1, previous = prev WHERE key = keys[i];
                        END IF;
                    END LOOP;
                END LOOP;
                IF random() < 0.001 THEN
                    DELETE FROM rate_counter WHERE start < t - 2 * 86400;
                END IF;
                RETURN -1;
            END
            $$
            """,
            """
            CREATE TABLE quarantine (
                queue_id text PRIMARY KEY, node text NOT NULL, queued_at double precision NOT NULL, sender text NOT NULL,
                subject text NOT NULL, size bigint NOT NULL, recipients text[] NOT NULL, reasons text[] NOT NULL,
                verdicts jsonb NOT NULL)
            """,
            "CREATE INDEX quarantine_node ON quarantine (node)",
            "CREATE INDEX quarantine_queued ON quarantine (queued_at, queue_id)",
        ],
        // 2: the archive: messages (bytes deflated and sealed as on SQLite, not compressed again by TOAST), their words
        // under a GIN index, and the address and DLP keys by time received.
        [
            """
            CREATE TABLE archive_message (
                id bigserial PRIMARY KEY, archive text NOT NULL, queue_id text NOT NULL, received_at double precision NOT NULL,
                sender text NOT NULL, recipients text NOT NULL, from_header text NOT NULL, to_header text NOT NULL, cc_header text NOT NULL,
                subject text NOT NULL, message_id text NOT NULL, size bigint NOT NULL, attachments text NOT NULL, dlp text NOT NULL,
                auth text NOT NULL, stored_size bigint NOT NULL, body bytea NOT NULL, client_ip text NOT NULL, listener text NOT NULL,
                user_name text NOT NULL, tls text NOT NULL, dlp_profiles text NOT NULL, dmarc text NOT NULL,
                held boolean NOT NULL DEFAULT false, words tsvector NOT NULL,
                UNIQUE (archive, queue_id))
            """,
            "ALTER TABLE archive_message ALTER COLUMN body SET STORAGE EXTERNAL",
            "CREATE INDEX archive_message_time ON archive_message (received_at, id)",
            "CREATE INDEX archive_message_archive ON archive_message (archive, received_at)",
            "CREATE INDEX archive_message_words ON archive_message USING gin (words)",
            "CREATE INDEX archive_message_client_ip ON archive_message (client_ip, id)",
            "CREATE INDEX archive_message_listener ON archive_message (listener, id)",
            "CREATE INDEX archive_message_user ON archive_message (user_name, id)",
            "CREATE INDEX archive_message_dmarc ON archive_message (dmarc, id)",
            "CREATE INDEX archive_message_held ON archive_message (held) WHERE held",
            """
            CREATE TABLE archive_key (
                key text COLLATE "C" NOT NULL, received_at double precision NOT NULL,
                message_id bigint NOT NULL REFERENCES archive_message (id) ON DELETE CASCADE,
                PRIMARY KEY (key, received_at, message_id))
            """,
            "CREATE INDEX archive_key_message ON archive_key (message_id)",
            """
            CREATE TABLE archive_dlp (
                message_id bigint NOT NULL REFERENCES archive_message (id) ON DELETE CASCADE, profile text NOT NULL,
                received_at double precision NOT NULL)
            """,
            "CREATE INDEX archive_dlp_profile ON archive_dlp (profile, received_at, message_id)",
            "CREATE INDEX archive_dlp_message ON archive_dlp (message_id)",
        ],
        // 3: DKIM keys (sealed with the nodes' key-encryption key) and their states; serials nodes watch for changes;
        // quarantine requests between nodes; the nodes' heartbeats.
        [
            """
            CREATE TABLE dkim_key (
                domain text NOT NULL, selector text NOT NULL, algorithm text NOT NULL, private_key bytea, state text,
                created_at double precision NOT NULL, changed_at double precision NOT NULL, PRIMARY KEY (domain, selector))
            """,
            "CREATE TABLE sluice_serial (name text PRIMARY KEY, serial bigint NOT NULL)",
            // Requests for the node holding a quarantined message, taken by that node's daemon.
            """
            CREATE TABLE quarantine_request (
                id bigserial PRIMARY KEY, node text NOT NULL, queue_id text NOT NULL, action text NOT NULL, only_recipient text,
                requested_by text NOT NULL, requested_at double precision NOT NULL)
            """,
            "CREATE INDEX quarantine_request_node ON quarantine_request (node, id)",
            // The nodes sharing the store, as each reports itself on its heartbeat.
            """
            CREATE TABLE sluice_node (
                name text PRIMARY KEY, version text NOT NULL, config_digest text NOT NULL, rules_digest text NOT NULL,
                dkim text[] NOT NULL, queue_depth bigint NOT NULL, started_at double precision NOT NULL, last_seen double precision NOT NULL)
            """,
        ],
    ]
}
