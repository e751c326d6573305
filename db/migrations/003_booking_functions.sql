-- Booking writes as one statement each. Every seat change of a performance
-- waits for the performance row lock (see seat_change in 001), and a Go
-- transaction holds that lock across every client-server round trip it
-- makes: BEGIN, lock, read the seat, read the student's seats, write, audit,
-- COMMIT. In the opening-minute spike each of those round trips is paid by
-- every student queued behind the lock. These functions do the same work
-- server-side, so a booking is one statement in one implicit transaction and
-- the lock is held only while PostgreSQL works (and commits).
--
-- The rules are the ones db/booking.go and db/tickets.go used to apply in
-- Go, in the same order, writing the same seat changes and audit rows in the
-- same order. A refused request returns a result code (mapped to db's
-- sentinel errors in Go) and writes nothing; only a check that fails after a
-- write has been made raises, so the whole statement rolls back, with a
-- festa:… HINT that Go maps the same way as the trigger's festa:limit.
--
-- Lock order stays: the performance row first (festa_lock_performance), then
-- seats (FOR UPDATE), then the seat trigger, which takes the performance row
-- again (already held). Work that needs no lock, such as finding a seat by
-- its label (which never changes), is done before taking it: everything
-- after the lock is paid by every booking queued behind it.
--
-- Ticket tokens are signed in Go: the database never holds a signing key.
-- festa_confirm is handed tokens signed in advance and refuses them
-- ('holds_changed') unless they are for exactly the holds live under the lock.

-- festa_audit appends one row to the audit log. An actor id of NULL is the
-- system (or staff without an id); ip and user agent arrive already
-- truncated by the caller, as before.
CREATE FUNCTION festa_audit(p_actor_kind text, p_actor_id bigint, p_action text, p_performance bigint,
    p_seat_label text, p_ip text, p_user_agent text, p_before jsonb, p_after jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- plpgsql, not sql: a plpgsql function keeps its plan for the session,
    -- a sql function with an INSERT is planned again at every call.
    INSERT INTO audit_log (actor_kind, actor_id, action, performance_id, seat_label, ip, user_agent, before, after)
    VALUES (p_actor_kind, p_actor_id, p_action, p_performance, p_seat_label, p_ip, p_user_agent, p_before, p_after);
END;
$$;

-- festa_rfc3339 writes a time as Go's encoding/json wrote it in the audit
-- log before (RFC 3339, "Z" for UTC), in the session's time zone: the same
-- text as before wherever the app and the database session share a zone,
-- and the same instant everywhere. It and festa_held_snapshot are single
-- expressions so the planner inlines them; a SQL function it cannot inline
-- is planned afresh at every call.
CREATE FUNCTION festa_rfc3339(p_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT regexp_replace(to_jsonb(p_at) #>> '{}', '\+00:00$', 'Z')
$$;

-- festa_held_snapshot is a held seat as the audit log records it, the
-- shape Go's seatSnapshot had: {"state", "student_id", "held_until"}.
CREATE FUNCTION festa_held_snapshot(p_student bigint, p_until timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('state', 'held', 'student_id', p_student, 'held_until', festa_rfc3339(p_until))
$$;

-- festa_lock_performance takes the performance's row lock, the one lock
-- every seat change takes first, and holds it until the caller's
-- transaction ends. code is NULL when the caller may go on, else why not:
-- not_found; when p_need_open, sales_not_open, sales_closed or sales_paused
-- (in that order, by the transaction's clock); when p_student is not NULL,
-- student_disabled for a student who is disabled or does not exist.
CREATE FUNCTION festa_lock_performance(p_performance bigint, p_need_open boolean, p_student bigint,
    OUT code text, OUT ticket_limit int, OUT hold_seconds int, OUT slug text)
LANGUAGE plpgsql AS $$
DECLARE
    enabled boolean;
BEGIN
    SELECT CASE WHEN NOT p_need_open THEN NULL
                WHEN now() < p.sales_open_at THEN 'sales_not_open'
                WHEN now() >= p.sales_close_at THEN 'sales_closed'
                WHEN p.paused THEN 'sales_paused' END,
           p.ticket_limit, p.hold_seconds, p.slug,
           coalesce((SELECT st.enabled FROM students st WHERE st.id = p_student), false)
      INTO code, ticket_limit, hold_seconds, slug, enabled
      FROM performances p WHERE p.id = p_performance
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        code := 'not_found';
    ELSIF code IS NULL AND p_student IS NOT NULL AND NOT enabled THEN
        code := 'student_disabled';
    END IF;
END;
$$;

-- festa_seat finds the seat labelled p_label in the performance's hall by
-- the (hall_id, label) index. Booking functions call it before they take
-- the lock: a seat's place in the hall never changes, and finding it by
-- performance and label instead reads every seat of the performance.
CREATE FUNCTION festa_seat(p_performance bigint, p_label text)
RETURNS SETOF seats LANGUAGE sql STABLE AS $$
    SELECT s.* FROM seats s JOIN performances p ON p.hall_id = s.hall_id
     WHERE p.id = p_performance AND s.label = p_label
$$;

-- festa_release_hold frees the student's hold on the seat (p_seat, labelled
-- p_label) and records a 'release'; false when the student holds no such
-- seat (an expired hold still counts as theirs to give back). The caller
-- holds the performance lock.
CREATE FUNCTION festa_release_hold(p_performance bigint, p_seat bigint, p_label text, p_student bigint,
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    old_until timestamptz;
BEGIN
    WITH old AS (
        SELECT ps.seat_id, ps.held_until FROM performance_seats ps
         WHERE ps.performance_id = p_performance AND ps.seat_id = p_seat
           AND ps.state = 'held' AND ps.student_id = p_student
           FOR UPDATE)
    UPDATE performance_seats ps SET state = 'available', student_id = NULL, held_until = NULL
      FROM old WHERE ps.performance_id = p_performance AND ps.seat_id = old.seat_id
    RETURNING old.held_until INTO old_until;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM festa_audit(p_actor_kind, p_actor_id, 'release', p_performance, p_label, p_ip, p_user_agent,
        festa_held_snapshot(p_student, old_until), '{"state": "available"}');
    RETURN true;
END;
$$;

-- festa_release is Store.Release: give up a hold, whatever the sales state.
-- Codes: ok, not_found, no_hold.
CREATE FUNCTION festa_release(p_performance bigint, p_label text, p_student bigint,
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    place_id bigint;
    lk      record;
BEGIN
    SELECT s.id INTO place_id FROM festa_seat(p_performance, p_label) s;
    SELECT * INTO lk FROM festa_lock_performance(p_performance, false, NULL);
    IF lk.code IS NOT NULL THEN
        RETURN lk.code;
    END IF;
    IF place_id IS NULL OR NOT festa_release_hold(p_performance, place_id, p_label, p_student,
                                                  p_actor_kind, p_actor_id, p_ip, p_user_agent) THEN
        RETURN 'no_hold';
    END IF;
    RETURN 'ok';
END;
$$;

-- festa_hold is Store.Hold: hold the seat labelled p_label for the student
-- for the performance's hold time. Holding one's own live hold again
-- changes nothing. A student at the ticket limit gives up their oldest
-- holds to make room (a 'release' each); sold seats are never given up, so
-- a student whose sales alone reach the limit is refused. Taking over an
-- expired hold records an 'expire' by the system first.
--
-- r_code is ok, or one of not_found, sales_not_open, sales_closed,
-- sales_paused, student_disabled, seat_not_found, seat_blocked, seat_taken,
-- limit (nothing written). On ok the r_ columns are the seat as it now is,
-- and r_released the labels given up (NULL for none), oldest first.
CREATE FUNCTION festa_hold(p_performance bigint, p_label text, p_student bigint,
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text,
    OUT r_code text, OUT r_seat_id bigint, OUT r_label text, OUT r_row_label text, OUT r_number int,
    OUT r_x int, OUT r_y int, OUT r_kind text, OUT r_state text, OUT r_student_id bigint,
    OUT r_held_until timestamptz, OUT r_version bigint, OUT r_released text[])
LANGUAGE plpgsql AS $$
DECLARE
    place   seats;
    lk      record;
    seat    record;
    expired boolean;
    owned   int;
    sold    int;
    oldest  record;
BEGIN
    SELECT * INTO place FROM festa_seat(p_performance, p_label);
    SELECT * INTO lk FROM festa_lock_performance(p_performance, true, p_student);
    IF lk.code IS NOT NULL THEN
        r_code := lk.code;
        RETURN;
    END IF;

    SELECT place.id, place.label, ps.state, ps.student_id, ps.held_until, ps.version
      INTO seat
      FROM performance_seats ps
     WHERE ps.performance_id = p_performance AND ps.seat_id = place.id
       FOR UPDATE;
    IF NOT FOUND THEN
        r_code := 'seat_not_found';
        RETURN;
    END IF;
    r_seat_id := place.id; r_label := place.label; r_row_label := place.row_label; r_number := place.number;
    r_x := place.x; r_y := place.y; r_kind := place.kind;

    expired := seat.state = 'held' AND seat.held_until <= now();
    IF seat.state = 'blocked' THEN
        r_code := 'seat_blocked';
        RETURN;
    ELSIF seat.state = 'held' AND seat.student_id = p_student AND NOT expired THEN
        r_code := 'ok';
        r_state := seat.state; r_student_id := seat.student_id;
        r_held_until := seat.held_until; r_version := seat.version;
        RETURN;
    ELSIF seat.state = 'sold' OR (seat.state = 'held' AND NOT expired) THEN
        r_code := 'seat_taken';
        RETURN;
    END IF;

    -- Make room under the limit by giving up the student's oldest holds.
    -- Counted before anything is written, so a refusal writes nothing.
    SELECT count(*), count(*) FILTER (WHERE ps.state = 'sold') INTO owned, sold
      FROM performance_seats ps
     WHERE ps.performance_id = p_performance AND ps.student_id = p_student AND ps.seat_id <> seat.id
       AND (ps.state = 'sold' OR (ps.state = 'held' AND ps.held_until > now()));
    IF owned >= lk.ticket_limit THEN
        IF sold >= lk.ticket_limit THEN
            r_code := 'limit';
            RETURN;
        END IF;
        FOR oldest IN
            SELECT ps.seat_id, s.label FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
             WHERE ps.performance_id = p_performance AND ps.student_id = p_student AND ps.seat_id <> seat.id
               AND ps.state = 'held' AND ps.held_until > now()
             ORDER BY ps.held_until
             LIMIT owned - lk.ticket_limit + 1
        LOOP
            PERFORM festa_release_hold(p_performance, oldest.seat_id, oldest.label, p_student,
                                       p_actor_kind, p_actor_id, p_ip, p_user_agent);
            r_released := r_released || oldest.label;
        END LOOP;
    END IF;

    IF expired THEN
        PERFORM festa_audit('system', NULL, 'expire', p_performance, seat.label, '', '',
            festa_held_snapshot(seat.student_id, seat.held_until), '{"state": "available"}');
    END IF;
    -- The sales window is checked again in the statement that writes, as
    -- everywhere a seat is sold or held.
    UPDATE performance_seats ps
       SET state = 'held', student_id = p_student, held_until = now() + make_interval(secs => lk.hold_seconds)
     WHERE ps.performance_id = p_performance AND ps.seat_id = seat.id
       AND (ps.state = 'available' OR (ps.state = 'held' AND ps.held_until <= now()))
       AND EXISTS (SELECT 1 FROM performances p WHERE p.id = ps.performance_id
                   AND NOT p.paused AND now() >= p.sales_open_at AND now() < p.sales_close_at)
    RETURNING ps.held_until, ps.version INTO r_held_until, r_version;
    IF NOT FOUND THEN
        -- Unreachable under the lock, but holds may already have been
        -- released above: raise so they are not.
        RAISE EXCEPTION 'seat % of performance % was taken', seat.label, p_performance
            USING ERRCODE = 'P0001', HINT = 'festa:seat_taken';
    END IF;
    PERFORM festa_audit(p_actor_kind, p_actor_id, 'hold', p_performance, seat.label, p_ip, p_user_agent,
        '{"state": "available"}', festa_held_snapshot(p_student, r_held_until));
    r_code := 'ok';
    r_state := 'held';
    r_student_id := p_student;
END;
$$;

-- festa_confirm is Store.Confirm under the lock: it turns the student's
-- live holds into tickets whose ids, key ids, tokens and issue time the
-- caller made and signed beforehand, for the seats p_seat_ids (in row and
-- seat order) and the performance slug p_slug.
--
-- With no live hold it is idempotent: if the student got an active ticket
-- in the last ten minutes (a double click, a resubmitted form) it returns
-- all their active tickets, oldest first; else hold_expired (the holds ran
-- out) or no_hold. If the live holds, or the slug, are not exactly what the
-- tokens were signed for (another tab held a seat, a hold expired in
-- between), it returns holds_changed and writes nothing; the caller signs
-- again.
--
-- r_code is ok, or one of not_found, sales_not_open, sales_closed,
-- sales_paused, student_disabled, no_hold, hold_expired, holds_changed.
-- On ok r_ticket_ids are the tickets, in row and seat order.
CREATE FUNCTION festa_confirm(p_performance bigint, p_student bigint, p_slug text, p_issued_at timestamptz,
    p_seat_ids bigint[], p_ticket_ids text[], p_key_ids text[], p_tokens text[],
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text,
    OUT r_code text, OUT r_ticket_ids text[])
LANGUAGE plpgsql AS $$
DECLARE
    lk     record;
    h      record;
    holds  int := 0;
    live   bigint[] := '{}';
    labels text[] := '{}';
    untils timestamptz[] := '{}';
BEGIN
    SELECT * INTO lk FROM festa_lock_performance(p_performance, true, p_student);
    IF lk.code IS NOT NULL THEN
        r_code := lk.code;
        RETURN;
    END IF;

    -- One pass over the student's holds, live or not, in row and seat order.
    FOR h IN
        SELECT ps.seat_id, s.label, ps.held_until
          FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
         WHERE ps.performance_id = p_performance AND ps.student_id = p_student AND ps.state = 'held'
         ORDER BY s.y, s.x
           FOR UPDATE OF ps
    LOOP
        holds := holds + 1;
        IF h.held_until > now() THEN
            live := live || h.seat_id;
            labels := labels || h.label;
            untils := untils || h.held_until;
        END IF;
    END LOOP;

    IF cardinality(live) = 0 THEN
        IF EXISTS (SELECT 1 FROM tickets t WHERE t.performance_id = p_performance AND t.student_id = p_student
                   AND t.status = 'active' AND t.issued_at > now() - interval '10 minutes') THEN
            SELECT array_agg(t.id::text ORDER BY t.issued_at) INTO r_ticket_ids
              FROM tickets t
             WHERE t.performance_id = p_performance AND t.student_id = p_student AND t.status = 'active';
            r_code := 'ok';
        ELSIF holds > 0 THEN
            r_code := 'hold_expired';
        ELSE
            r_code := 'no_hold';
        END IF;
        RETURN;
    END IF;
    IF live IS DISTINCT FROM p_seat_ids OR lk.slug IS DISTINCT FROM p_slug
       OR cardinality(p_ticket_ids) IS DISTINCT FROM cardinality(live)
       OR cardinality(p_key_ids) IS DISTINCT FROM cardinality(live)
       OR cardinality(p_tokens) IS DISTINCT FROM cardinality(live) THEN
        r_code := 'holds_changed';
        RETURN;
    END IF;

    -- Per seat, as before: the ticket, then the sale (which the deferred
    -- consistency trigger checks against it), then the audit row.
    FOR i IN 1 .. cardinality(live) LOOP
        INSERT INTO tickets (id, performance_id, seat_id, student_id, key_id, token, issued_at)
        VALUES (p_ticket_ids[i]::uuid, p_performance, live[i], p_student, p_key_ids[i], p_tokens[i], p_issued_at);
        UPDATE performance_seats ps SET state = 'sold', held_until = NULL
         WHERE ps.performance_id = p_performance AND ps.seat_id = live[i]
           AND ps.state = 'held' AND ps.student_id = p_student AND ps.held_until > now()
           AND EXISTS (SELECT 1 FROM performances p WHERE p.id = ps.performance_id
                       AND NOT p.paused AND now() >= p.sales_open_at AND now() < p.sales_close_at);
        IF NOT FOUND THEN
            -- Unreachable under the lock; raise so no earlier ticket stays.
            RAISE EXCEPTION 'hold on seat % of performance % expired', labels[i], p_performance
                USING ERRCODE = 'P0001', HINT = 'festa:hold_expired';
        END IF;
        PERFORM festa_audit(p_actor_kind, p_actor_id, 'confirm', p_performance, labels[i], p_ip, p_user_agent,
            festa_held_snapshot(p_student, untils[i]),
            jsonb_build_object('state', 'sold', 'student_id', p_student, 'ticket_id', p_ticket_ids[i]));
    END LOOP;
    r_code := 'ok';
    r_ticket_ids := p_ticket_ids;
END;
$$;

-- festa_cancel_ticket is Store.CancelTicket under the lock: cancel the
-- ticket (which the caller has checked is the student's, of this
-- performance) and free its seat, while sales are open. Codes: ok,
-- not_found, sales_not_open, sales_closed, sales_paused, ticket_cancelled,
-- checked_in.
CREATE FUNCTION festa_cancel_ticket(p_performance bigint, p_ticket text, p_student bigint,
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    lk record;
    tk record;
BEGIN
    SELECT * INTO lk FROM festa_lock_performance(p_performance, true, NULL);
    IF lk.code IS NOT NULL THEN
        RETURN lk.code;
    END IF;
    SELECT t.seat_id, s.label, t.status, EXISTS (SELECT 1 FROM check_ins c WHERE c.ticket_id = t.id) AS checked_in
      INTO tk
      FROM tickets t JOIN seats s ON s.id = t.seat_id
     WHERE t.id = p_ticket::uuid
       FOR UPDATE OF t;
    IF NOT FOUND THEN
        RETURN 'not_found';
    ELSIF tk.status = 'cancelled' THEN
        RETURN 'ticket_cancelled';
    ELSIF tk.checked_in THEN
        RETURN 'checked_in';
    END IF;
    UPDATE tickets SET status = 'cancelled', cancelled_at = now() WHERE id = p_ticket::uuid AND status = 'active';
    UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
     WHERE performance_id = p_performance AND seat_id = tk.seat_id AND state = 'sold' AND student_id = p_student;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'seat % was not sold to the ticket holder', tk.label;
    END IF;
    PERFORM festa_audit(p_actor_kind, p_actor_id, 'cancel', p_performance, tk.label, p_ip, p_user_agent,
        jsonb_build_object('state', 'sold', 'student_id', p_student, 'ticket_id', p_ticket),
        '{"state": "available"}');
    RETURN 'ok';
END;
$$;

-- festa_expire_holds frees every expired hold of the performance, with an
-- 'expire' by the system for each, and returns how many it freed. Codes:
-- ok, not_found.
CREATE FUNCTION festa_expire_holds(p_performance bigint, OUT r_code text, OUT r_expired int)
LANGUAGE plpgsql AS $$
DECLARE
    lk record;
BEGIN
    SELECT * INTO lk FROM festa_lock_performance(p_performance, false, NULL);
    IF lk.code IS NOT NULL THEN
        r_code := lk.code;
        RETURN;
    END IF;
    WITH old AS (
        SELECT ps.seat_id, ps.student_id, ps.held_until FROM performance_seats ps
         WHERE ps.performance_id = p_performance AND ps.state = 'held' AND ps.held_until <= now()
           FOR UPDATE),
    freed AS (
        UPDATE performance_seats ps SET state = 'available', student_id = NULL, held_until = NULL
          FROM old, seats s
         WHERE ps.performance_id = p_performance AND ps.seat_id = old.seat_id AND s.id = old.seat_id
        RETURNING s.label, old.student_id, old.held_until)
    INSERT INTO audit_log (actor_kind, actor_id, action, performance_id, seat_label, ip, user_agent, before, after)
    SELECT 'system', NULL, 'expire', p_performance, freed.label, '', '',
           festa_held_snapshot(freed.student_id, freed.held_until), '{"state": "available"}'
      FROM freed;
    GET DIAGNOSTICS r_expired = ROW_COUNT;
    r_code := 'ok';
END;
$$;
