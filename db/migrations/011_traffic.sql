-- The council's traffic view (handlers/admin_traffic.go), festa's own
-- replacement for a third-party analytics script.
--
-- Page views are kept only as counts: how many times a kind of page (and,
-- for a performance page, which performance) was opened in a minute. No
-- address, cookie, session, user agent or student is stored, so nothing
-- here can tell who looked or follow anyone from page to page; the funnel's
-- people come from the audit log, which already records who signed in,
-- held and confirmed.
--
-- Each app instance counts in memory and adds its counts every few
-- seconds with one upsert (traffic.Counter), so several instances add up
-- into the same rows. A row per minute, kind and performance is a few
-- thousand rows for a whole festival; none are ever deleted.
CREATE TABLE page_views (
    minute         timestamptz NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('home', 'performance', 'login', 'tickets')),
    -- Set for performance pages only; a performance removed takes its
    -- counts with it.
    performance_id bigint REFERENCES performances ON DELETE CASCADE,
    views          int NOT NULL CHECK (views > 0),
    CHECK ((kind = 'performance') = (performance_id IS NOT NULL)),
    -- NULLS NOT DISTINCT: the home page's minute is one row, which the
    -- flush's ON CONFLICT finds and adds to.
    UNIQUE NULLS NOT DISTINCT (minute, kind, performance_id)
);

-- The funnel counts sign-ins, holds and confirmations in a time window
-- across all performances; without this it would read the whole audit log
-- every time the traffic view refreshes.
CREATE INDEX audit_log_action_at ON audit_log (action, at);
