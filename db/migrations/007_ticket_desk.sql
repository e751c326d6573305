-- The ticket desk: what the council does for one person at a time, on the
-- day (handlers/admin_desk.go). Each action is one plpgsql function in the
-- style of 003_booking_functions.sql: it takes the performance row lock,
-- checks the seat rules under it, writes, and appends audit rows with the
-- council member as the actor and the reason they gave; a refusal returns a
-- result code and writes nothing.
--
-- The desk ignores the sales window (it must work while sales are paused,
-- before they open and after they close: that is when people come to the
-- desk), but never the seat rules: a seat given out must be free, of the
-- ticket's own performance and not blocked, and one seat holds one live
-- ticket (tickets_one_active_per_seat still decides).
--
-- Guests. A ticket may belong to a guest, named on the ticket, instead of
-- a student: tickets.student_id becomes optional and exactly one of it and
-- guest_name is set. A guest's sold seat has no student either. Guests get
-- their tickets from seats the council reserved: a seat held back for the
-- council is a blocked seat (students cannot take it) whose place in the
-- hall is usable (seats.kind is not 'blocked', unlike the sound desk).

ALTER TABLE tickets ALTER COLUMN student_id DROP NOT NULL;
ALTER TABLE tickets ADD COLUMN guest_name text CHECK (length(guest_name) BETWEEN 1 AND 100);
ALTER TABLE tickets ADD CONSTRAINT tickets_student_or_guest CHECK ((student_id IS NULL) <> (guest_name IS NULL));

-- A held seat always has its student; a sold seat has its buyer, or none
-- for a guest's ticket; any other seat has nobody. (001 said held or sold
-- exactly when a student is set.)
DO $$
DECLARE
    c text;
BEGIN
    SELECT conname INTO STRICT c FROM pg_constraint
     WHERE conrelid = 'performance_seats'::regclass AND contype = 'c'
       AND pg_get_constraintdef(oid) LIKE '%student_id IS NOT NULL%';
    EXECUTE format('ALTER TABLE performance_seats DROP CONSTRAINT %I', c);
END;
$$;
ALTER TABLE performance_seats ADD CONSTRAINT performance_seats_holder CHECK (
    CASE state WHEN 'held' THEN student_id IS NOT NULL
               WHEN 'sold' THEN true
               ELSE student_id IS NULL END);

-- A sold seat is backed by the active ticket of its holder, a student's or
-- (no student) a guest's.
CREATE OR REPLACE FUNCTION seat_ticket_consistent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'sold' AND NOT EXISTS (
        SELECT 1 FROM tickets t
         WHERE t.performance_id = NEW.performance_id AND t.seat_id = NEW.seat_id
           AND t.student_id IS NOT DISTINCT FROM NEW.student_id AND t.status = 'active') THEN
        RAISE EXCEPTION 'seat % of performance % is sold without an active ticket', NEW.seat_id, NEW.performance_id;
    END IF;
    IF OLD.state = 'sold' AND NEW.state <> 'sold' AND EXISTS (
        SELECT 1 FROM tickets t
         WHERE t.performance_id = NEW.performance_id AND t.seat_id = NEW.seat_id AND t.status = 'active') THEN
        RAISE EXCEPTION 'seat % of performance % freed while its ticket is active', NEW.seat_id, NEW.performance_id;
    END IF;
    RETURN NULL;
END;
$$;

-- festa_desk_audit is festa_audit with the council's reason in the after
-- snapshot.
CREATE FUNCTION festa_desk_audit(p_actor_id bigint, p_action text, p_performance bigint, p_label text,
    p_ip text, p_user_agent text, p_before jsonb, p_after jsonb, p_reason text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM festa_audit('staff', p_actor_id, p_action, p_performance, p_label, p_ip, p_user_agent,
        p_before, p_after || jsonb_build_object('reason', p_reason));
END;
$$;

-- festa_sold_snapshot is a sold seat as the audit log records it.
CREATE FUNCTION festa_sold_snapshot(p_student bigint, p_ticket uuid, p_guest text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('state', 'sold', 'student_id', p_student, 'ticket_id', p_ticket::text,
        'guest', p_guest))
$$;

-- festa_desk_cancel cancels a ticket and frees its seat, whatever the
-- sales state. Codes: ok, not_found, ticket_cancelled, checked_in.
CREATE FUNCTION festa_desk_cancel(p_ticket uuid, p_actor bigint, p_ip text, p_user_agent text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    perf bigint;
    lk   record;
    tk   record;
BEGIN
    SELECT performance_id INTO perf FROM tickets WHERE id = p_ticket;
    IF NOT FOUND THEN
        RETURN 'not_found';
    END IF;
    SELECT * INTO lk FROM festa_lock_performance(perf, false, NULL);
    SELECT t.seat_id, s.label, t.status, t.student_id, t.guest_name,
           EXISTS (SELECT 1 FROM check_ins c WHERE c.ticket_id = t.id) AS checked_in
      INTO tk
      FROM tickets t JOIN seats s ON s.id = t.seat_id
     WHERE t.id = p_ticket
       FOR UPDATE OF t;
    IF tk.status = 'cancelled' THEN
        RETURN 'ticket_cancelled';
    ELSIF tk.checked_in THEN
        RETURN 'checked_in';
    END IF;
    UPDATE tickets SET status = 'cancelled', cancelled_at = now() WHERE id = p_ticket;
    UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
     WHERE performance_id = perf AND seat_id = tk.seat_id AND state = 'sold'
       AND student_id IS NOT DISTINCT FROM tk.student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'seat % was not sold to the ticket holder', tk.label;
    END IF;
    PERFORM festa_desk_audit(p_actor, 'cancel', perf, tk.label, p_ip, p_user_agent,
        festa_sold_snapshot(tk.student_id, p_ticket, tk.guest_name), '{"state": "available"}', p_reason);
    RETURN 'ok';
END;
$$;

-- festa_desk_move moves an active ticket to the seat labelled p_label of
-- its own performance (p_performance must be it: 'other_performance'
-- otherwise), keeping the ticket's id, holder and check-in, with the token
-- the caller signed for the new seat. The seat must be free (an expired
-- hold is recorded as expired first) and not blocked. Codes: ok,
-- not_found, other_performance, seat_not_found, same_seat, seat_blocked,
-- seat_taken, ticket_cancelled.
CREATE FUNCTION festa_desk_move(p_ticket uuid, p_performance bigint, p_label text, p_key_id text, p_token text,
    p_issued_at timestamptz, p_actor bigint, p_ip text, p_user_agent text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    perf  bigint;
    place seats;
    lk    record;
    tk    record;
    seat  record;
BEGIN
    SELECT performance_id INTO perf FROM tickets WHERE id = p_ticket;
    IF NOT FOUND THEN
        RETURN 'not_found';
    ELSIF perf <> p_performance THEN
        RETURN 'other_performance';
    END IF;
    SELECT * INTO place FROM festa_seat(perf, p_label);
    IF place.id IS NULL THEN
        RETURN 'seat_not_found';
    END IF;
    SELECT * INTO lk FROM festa_lock_performance(perf, false, NULL);
    SELECT t.seat_id, s.label, t.status, t.student_id, t.guest_name
      INTO tk
      FROM tickets t JOIN seats s ON s.id = t.seat_id
     WHERE t.id = p_ticket
       FOR UPDATE OF t;
    IF tk.status = 'cancelled' THEN
        RETURN 'ticket_cancelled';
    ELSIF tk.seat_id = place.id THEN
        RETURN 'same_seat';
    END IF;
    SELECT ps.state, ps.student_id, ps.held_until INTO seat
      FROM performance_seats ps
     WHERE ps.performance_id = perf AND ps.seat_id = place.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'seat_not_found';
    ELSIF seat.state = 'blocked' THEN
        RETURN 'seat_blocked';
    ELSIF seat.state = 'sold' OR (seat.state = 'held' AND seat.held_until > now()) THEN
        RETURN 'seat_taken';
    END IF;
    IF seat.state = 'held' THEN
        PERFORM festa_audit('system', NULL, 'expire', perf, place.label, '', '',
            festa_held_snapshot(seat.student_id, seat.held_until), '{"state": "available"}');
    END IF;
    -- The ticket first, then the old seat freed, then the new one sold:
    -- the seat trigger counts a student's seats when one is sold, and the
    -- old one must not count twice.
    UPDATE tickets SET seat_id = place.id, key_id = p_key_id, token = p_token, issued_at = p_issued_at
     WHERE id = p_ticket;
    UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
     WHERE performance_id = perf AND seat_id = tk.seat_id AND state = 'sold'
       AND student_id IS NOT DISTINCT FROM tk.student_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'seat % was not sold to the ticket holder', tk.label;
    END IF;
    UPDATE performance_seats SET state = 'sold', student_id = tk.student_id, held_until = NULL
     WHERE performance_id = perf AND seat_id = place.id
       AND (state = 'available' OR (state = 'held' AND held_until <= now()));
    IF NOT FOUND THEN
        RAISE EXCEPTION 'seat % of performance % was taken', place.label, perf
            USING ERRCODE = 'P0001', HINT = 'festa:seat_taken';
    END IF;
    PERFORM festa_desk_audit(p_actor, 'move', perf, tk.label, p_ip, p_user_agent,
        festa_sold_snapshot(tk.student_id, p_ticket, tk.guest_name),
        jsonb_build_object('state', 'available', 'moved_to', place.label), p_reason);
    PERFORM festa_desk_audit(p_actor, 'move', perf, place.label, p_ip, p_user_agent,
        '{"state": "available"}',
        festa_sold_snapshot(tk.student_id, p_ticket, tk.guest_name) || jsonb_build_object('moved_from', tk.label),
        p_reason);
    RETURN 'ok';
END;
$$;

-- festa_desk_release frees a held seat, live or expired, whoever holds it
-- (a hold a student cannot give back: a lost phone, a stuck page). Codes:
-- ok, not_found, seat_not_found, no_hold.
CREATE FUNCTION festa_desk_release(p_performance bigint, p_label text, p_actor bigint, p_ip text, p_user_agent text,
    p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    place seats;
    lk    record;
    old   record;
BEGIN
    SELECT * INTO place FROM festa_seat(p_performance, p_label);
    IF place.id IS NULL THEN
        RETURN 'seat_not_found';
    END IF;
    SELECT * INTO lk FROM festa_lock_performance(p_performance, false, NULL);
    IF lk.code IS NOT NULL THEN
        RETURN lk.code;
    END IF;
    SELECT ps.student_id, ps.held_until INTO old
      FROM performance_seats ps
     WHERE ps.performance_id = p_performance AND ps.seat_id = place.id AND ps.state = 'held'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'no_hold';
    END IF;
    UPDATE performance_seats SET state = 'available', student_id = NULL, held_until = NULL
     WHERE performance_id = p_performance AND seat_id = place.id;
    PERFORM festa_desk_audit(p_actor, 'release', p_performance, place.label, p_ip, p_user_agent,
        festa_held_snapshot(old.student_id, old.held_until), '{"state": "available"}', p_reason);
    RETURN 'ok';
END;
$$;

-- festa_desk_reserve holds a free seat back for the council (p_reserve)
-- or gives a seat held back to sale again (not p_reserve). A seat the
-- hall itself blocks (the sound desk) is never either. Codes: ok,
-- not_found, seat_not_found, seat_blocked (a place of the hall that is no
-- seat), seat_taken (reserving a seat that is not free), not_reserved
-- (releasing a seat that is not held back).
CREATE FUNCTION festa_desk_reserve(p_performance bigint, p_label text, p_reserve boolean, p_actor bigint,
    p_ip text, p_user_agent text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    place seats;
    lk    record;
    seat  record;
BEGIN
    SELECT * INTO place FROM festa_seat(p_performance, p_label);
    IF place.id IS NULL THEN
        RETURN 'seat_not_found';
    ELSIF place.kind = 'blocked' THEN
        RETURN 'seat_blocked';
    END IF;
    SELECT * INTO lk FROM festa_lock_performance(p_performance, false, NULL);
    IF lk.code IS NOT NULL THEN
        RETURN lk.code;
    END IF;
    SELECT ps.state, ps.student_id, ps.held_until INTO seat
      FROM performance_seats ps
     WHERE ps.performance_id = p_performance AND ps.seat_id = place.id
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'seat_not_found';
    END IF;
    IF p_reserve THEN
        IF seat.state = 'blocked' THEN
            RETURN 'ok';
        ELSIF seat.state = 'sold' OR (seat.state = 'held' AND seat.held_until > now()) THEN
            RETURN 'seat_taken';
        END IF;
        IF seat.state = 'held' THEN
            PERFORM festa_audit('system', NULL, 'expire', p_performance, place.label, '', '',
                festa_held_snapshot(seat.student_id, seat.held_until), '{"state": "available"}');
        END IF;
        UPDATE performance_seats SET state = 'blocked', student_id = NULL, held_until = NULL
         WHERE performance_id = p_performance AND seat_id = place.id;
        PERFORM festa_desk_audit(p_actor, 'reserve', p_performance, place.label, p_ip, p_user_agent,
            '{"state": "available"}', '{"state": "blocked"}', p_reason);
    ELSE
        IF seat.state <> 'blocked' THEN
            RETURN 'not_reserved';
        END IF;
        UPDATE performance_seats SET state = 'available'
         WHERE performance_id = p_performance AND seat_id = place.id;
        PERFORM festa_desk_audit(p_actor, 'unreserve', p_performance, place.label, p_ip, p_user_agent,
            '{"state": "blocked"}', '{"state": "available"}', p_reason);
    END IF;
    RETURN 'ok';
END;
$$;

-- festa_desk_issue_guest gives a seat the council held back to a guest:
-- a ticket with the guest's name, no student, and the id, key and token
-- the caller made for it. Codes: ok, not_found, seat_not_found,
-- seat_blocked (the sound desk), not_reserved (a seat that is not held
-- back: reserve it first).
CREATE FUNCTION festa_desk_issue_guest(p_performance bigint, p_label text, p_ticket uuid, p_key_id text, p_token text,
    p_issued_at timestamptz, p_guest text, p_actor bigint, p_ip text, p_user_agent text, p_reason text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    place seats;
    lk    record;
BEGIN
    SELECT * INTO place FROM festa_seat(p_performance, p_label);
    IF place.id IS NULL THEN
        RETURN 'seat_not_found';
    ELSIF place.kind = 'blocked' THEN
        RETURN 'seat_blocked';
    END IF;
    SELECT * INTO lk FROM festa_lock_performance(p_performance, false, NULL);
    IF lk.code IS NOT NULL THEN
        RETURN lk.code;
    END IF;
    PERFORM 1 FROM performance_seats ps
     WHERE ps.performance_id = p_performance AND ps.seat_id = place.id AND ps.state = 'blocked'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'not_reserved';
    END IF;
    INSERT INTO tickets (id, performance_id, seat_id, student_id, guest_name, key_id, token, issued_at)
    VALUES (p_ticket, p_performance, place.id, NULL, p_guest, p_key_id, p_token, p_issued_at);
    UPDATE performance_seats SET state = 'sold'
     WHERE performance_id = p_performance AND seat_id = place.id;
    PERFORM festa_desk_audit(p_actor, 'issue_guest', p_performance, place.label, p_ip, p_user_agent,
        '{"state": "blocked"}', festa_sold_snapshot(NULL, p_ticket, p_guest), p_reason);
    RETURN 'ok';
END;
$$;

-- festa_scan as in 005, but a guest's ticket (no student) is known too: the
-- verdict names the guest and has no student number.
CREATE OR REPLACE FUNCTION festa_scan(p_performance text, p_gate text, p_staff bigint, p_ticket uuid, p_token text,
    p_reason text, p_nonce text, p_scanned_at timestamptz, p_local text,
    OUT r_result text, OUT r_reason text, OUT r_seat text, OUT r_student_no text, OUT r_student_name text,
    OUT r_performance_slug text, OUT r_performance_title text, OUT r_first_at timestamptz,
    OUT r_first_gate text, OUT r_gate_count int, OUT r_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    perf  bigint;
    prior record;
    tk    record;
    known boolean := false;
    at    timestamptz := least(coalesce(p_scanned_at, now()), now());
BEGIN
    r_replayed := false;
    SELECT id INTO perf FROM performances WHERE slug = p_performance;
    IF NOT FOUND THEN
        r_result := 'no_performance';
        RETURN;
    END IF;
    IF p_nonce IS NOT NULL THEN
        -- Two copies of one scan arriving at once queue here, so the second
        -- sees the first's row instead of racing it.
        PERFORM pg_advisory_xact_lock(hashtextextended('festa_scan:' || p_nonce, 0));
        SELECT s.result, s.reason, s.ticket_id INTO prior FROM scan_log s WHERE s.nonce = p_nonce;
        IF FOUND THEN
            r_replayed := true;
            r_result := prior.result;
            r_reason := prior.reason;
            p_ticket := prior.ticket_id;
        END IF;
    END IF;
    IF p_ticket IS NOT NULL THEN
        SELECT t.status, t.token, t.performance_id, p.slug, p.title, s.label,
               coalesce(st.student_no, '') AS student_no, coalesce(st.name, t.guest_name) AS name
          INTO tk
          FROM tickets t
          JOIN performances p ON p.id = t.performance_id
          JOIN seats s ON s.id = t.seat_id
          LEFT JOIN students st ON st.id = t.student_id
         WHERE t.id = p_ticket
           FOR SHARE OF t;
        known := FOUND;
    END IF;
    IF NOT r_replayed THEN
        IF p_ticket IS NULL THEN
            r_result := 'invalid';
            r_reason := coalesce(p_reason, 'bad_token');
        ELSIF NOT known THEN
            r_result := 'invalid';
            r_reason := 'unknown_ticket';
            p_ticket := NULL;
        ELSIF tk.token <> p_token THEN
            r_result := 'invalid';
            r_reason := 'token_mismatch';
        ELSIF tk.status = 'cancelled' THEN
            r_result := 'cancelled';
            r_reason := 'cancelled';
        ELSIF tk.performance_id <> perf THEN
            r_result := 'wrong-performance';
            r_reason := 'other_performance';
        ELSE
            INSERT INTO check_ins (ticket_id, staff_id, gate, checked_in_at)
            VALUES (p_ticket, p_staff, p_gate, at)
            ON CONFLICT (ticket_id) DO NOTHING;
            IF FOUND THEN
                r_result := 'admitted';
                r_reason := 'admitted';
            ELSE
                r_result := 'already-used';
                r_reason := 'checked_in';
            END IF;
        END IF;
        INSERT INTO scan_log (scanned_at, performance_id, ticket_id, gate, staff_id, result, reason, token, nonce, offline,
                              local_result)
        VALUES (at, perf, p_ticket, p_gate, p_staff, r_result, r_reason, left(coalesce(p_token, ''), 512), p_nonce,
                p_scanned_at IS NOT NULL, p_local);
    END IF;
    -- What the verdict shows. An invalid scan shows nothing of the ticket.
    IF known AND r_result <> 'invalid' THEN
        r_seat := tk.label;
        r_student_no := tk.student_no;
        r_student_name := tk.name;
        r_performance_slug := tk.slug;
        r_performance_title := tk.title;
        SELECT c.checked_in_at, c.gate INTO r_first_at, r_first_gate FROM check_ins c WHERE c.ticket_id = p_ticket;
    END IF;
    SELECT count(*) INTO r_gate_count
      FROM check_ins c JOIN tickets t ON t.id = c.ticket_id
     WHERE c.gate = p_gate AND t.performance_id = perf;
END;
$$;
