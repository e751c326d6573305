-- Sign-in throttling. Failed sign-ins are counted per key in fixed windows
-- kept here, not in any app instance's memory, so the limits hold however
-- many instances serve behind the proxy. Keys name what they count:
-- "student:20315", "staff:council", "student-ip:203.0.113.7", … (see
-- handlers/auth.go for the limits).
--
-- A row whose window has passed is dead: the next failure starts a fresh
-- window over it, and the sweep in db/auth.go deletes it.
CREATE TABLE login_failures (
    key          text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 200),
    window_start timestamptz NOT NULL,
    failures     int NOT NULL CHECK (failures >= 0)
);
CREATE INDEX login_failures_window_start ON login_failures (window_start);
