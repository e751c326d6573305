-- Bookings no longer queue behind one lock through commit.
--
-- Until now every seat change took the performance's row lock (the seat
-- trigger bumped performances.version), so the bookings of a performance
-- ran one at a time, each holding the lock through its commit: the
-- opening minute's ceiling was one commit at a time
-- (docs/BENCHMARKS.md). The lock bought two things, and each now has a
-- finer guard:
--
--   * The ticket limit is exact because a student's seats cannot change
--     while they are counted: a transaction-level advisory lock per
--     student (festa_lock_student), taken before any seat lock. Two
--     students never wait for each other.
--   * The live change feed was gap-free because versions were handed out
--     in commit order. Now each seat carries its own version, from a
--     sequence, taken under the seat's row lock (so a seat's versions grow
--     in its commit order), and every change row records its transaction
--     id. A reader that remembers the oldest transaction still running
--     when it read (pg_snapshot_xmin of its snapshot, its "horizon") finds
--     every change it has not seen among the rows of transactions at or
--     after that horizon: a transaction below it had finished, and its
--     changes were visible to that read. Messages carry each seat's full
--     state and version, so a seat read twice is recognised and a seat's
--     older state never replaces a newer one.
--
-- Bookings still take the performance row, but FOR SHARE: they do not
-- wait for each other, while a council action that updates the row (a
-- pause, a change of the sales window or the hall) waits for the bookings
-- in flight and they for it, so no booking commits on the far side of a
-- pause it did not see.

CREATE SEQUENCE seat_version_seq;
SELECT setval('seat_version_seq', greatest(
    (SELECT max(version) FROM performance_seats), (SELECT max(version) FROM seat_changes), 1));

ALTER TABLE performance_seats ADD COLUMN changed_xid xid8 NOT NULL DEFAULT '0';
COMMENT ON COLUMN performance_seats.version IS
    'the seat''s own change version (seat_version_seq), growing in the seat''s commit order';
COMMENT ON COLUMN performance_seats.changed_xid IS
    'the transaction that last changed the seat: a page drawn at a horizon at or below it may lack the change';

ALTER TABLE seat_changes ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX seat_changes_xid ON seat_changes (performance_id, xid);

COMMENT ON COLUMN performances.version IS 'no longer bumped (see migration 012); kept for old readers';

-- festa_lock_student takes the student's booking lock until the end of
-- the transaction. Advisory, so it writes nothing; the two-key form keeps
-- festa's keys apart from the migrator's one-key lock. Ids past 2^31 share
-- a key with a smaller one, which only makes those two students wait for
-- each other.
CREATE FUNCTION festa_lock_student(p_student bigint) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(1717924724, (p_student % 2147483647)::int)
$$;

CREATE OR REPLACE FUNCTION seat_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lim   int;
    owned int;
BEGIN
    IF NEW.state = OLD.state AND NEW.student_id IS NOT DISTINCT FROM OLD.student_id
       AND NEW.held_until IS NOT DISTINCT FROM OLD.held_until THEN
        RETURN NEW;
    END IF;
    IF NEW.student_id IS NOT NULL AND NEW.student_id IS DISTINCT FROM OLD.student_id THEN
        -- Every booking function has taken this lock already (before any
        -- seat lock, the one lock order); taking it here again keeps the
        -- limit exact for any other writer.
        PERFORM festa_lock_student(NEW.student_id);
        SELECT ticket_limit INTO lim FROM performances WHERE id = NEW.performance_id;
        SELECT count(*) INTO owned FROM performance_seats
         WHERE performance_id = NEW.performance_id AND student_id = NEW.student_id
           AND seat_id <> NEW.seat_id
           AND (state = 'sold' OR (state = 'held' AND held_until > now()));
        IF owned >= lim THEN
            RAISE EXCEPTION 'student % is at the ticket limit of performance %', NEW.student_id, NEW.performance_id
                USING ERRCODE = 'P0001', HINT = 'festa:limit';
        END IF;
    END IF;
    -- The row is locked by this update, so the seat's next version is
    -- taken after its previous change committed.
    NEW.version := nextval('seat_version_seq');
    NEW.changed_xid := pg_current_xact_id();
    NEW.updated_at := now();
    INSERT INTO seat_changes (performance_id, version, seat_id, state, student_id, held_until, xid)
    VALUES (NEW.performance_id, NEW.version, NEW.seat_id, NEW.state, NEW.student_id, NEW.held_until, NEW.changed_xid);
    RETURN NEW;
END;
$$;

-- festa_lock_performance as before (see 003), with the finer locks: the
-- performance row FOR SHARE, and the student's lock when p_student is set.
CREATE OR REPLACE FUNCTION festa_lock_performance(p_performance bigint, p_need_open boolean, p_student bigint,
    OUT code text, OUT ticket_limit int, OUT hold_seconds int, OUT slug text)
LANGUAGE plpgsql AS $$
DECLARE
    enabled boolean;
BEGIN
    IF p_student IS NOT NULL THEN
        PERFORM festa_lock_student(p_student);
    END IF;
    SELECT CASE WHEN NOT p_need_open THEN NULL
                WHEN now() < p.sales_open_at THEN 'sales_not_open'
                WHEN now() >= p.sales_close_at THEN 'sales_closed'
                WHEN p.paused THEN 'sales_paused' END,
           p.ticket_limit, p.hold_seconds, p.slug,
           coalesce((SELECT st.enabled FROM students st WHERE st.id = p_student), false)
      INTO code, ticket_limit, hold_seconds, slug, enabled
      FROM performances p WHERE p.id = p_performance
       FOR SHARE;
    IF NOT FOUND THEN
        code := 'not_found';
    ELSIF code IS NULL AND p_student IS NOT NULL AND NOT enabled THEN
        code := 'student_disabled';
    END IF;
END;
$$;
