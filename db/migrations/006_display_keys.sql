-- Display keys: a projector laptop opens a performance's projection screen
-- (/screen/{performance}?key=…) without a council sign-in. A key belongs to
-- one performance and shows only what the screen shows (counts, the seat
-- map without holders, door counts, seat labels), never a name.
--
-- Only a SHA-256 of the key is kept: a key is 32 random bytes, so a slow
-- hash would add nothing, and a database dump does not open any screen. The
-- council sees the whole key once, when it is made; afterwards the console
-- tells keys apart by their label and the key's last four characters.
-- Revoking keeps the row (for the audit log's sake) with revoked_at set;
-- rotating revokes one key and makes its successor in one transaction.
CREATE TABLE display_keys (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    performance_id bigint NOT NULL REFERENCES performances ON DELETE CASCADE,
    key_hash       bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    label          text NOT NULL CHECK (length(label) BETWEEN 1 AND 60),
    hint           text NOT NULL CHECK (hint ~ '^[A-Za-z0-9_-]{4}$'),
    created_by     bigint REFERENCES staff,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- last_used_at is when the key last opened the screen or its socket,
    -- at most once a minute (the console shows which projector is alive).
    last_used_at   timestamptz,
    revoked_at     timestamptz,
    -- rotated_to names the key that replaced this one, if any.
    rotated_to     bigint REFERENCES display_keys
);
CREATE INDEX display_keys_performance ON display_keys (performance_id, created_at);
