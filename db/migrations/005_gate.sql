-- The gate: every scan a door makes, and the one statement that turns a
-- scan into a verdict. check_ins (001) already allows a ticket in once
-- (ticket_id UNIQUE); festa_scan inserts into it with ON CONFLICT DO NOTHING
-- and reads the winner, so the database alone decides which of two doors
-- scanning the same ticket at the same instant admits it. Nothing here reads
-- and then writes on the application's side.

-- scan_log keeps every scan, admitted or refused, with why: the council's
-- audit of the doors, and the proof that a synced offline scan was applied.
-- nonce is the scanner's own id for a scan it made (offline, or online and
-- retried); a scan sent twice with one nonce is applied once and answered
-- with its first verdict.
CREATE TABLE scan_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- at is when the server heard of the scan, scanned_at when the door
    -- scanned it (earlier for an offline scan synced later).
    at             timestamptz NOT NULL DEFAULT now(),
    scanned_at     timestamptz NOT NULL DEFAULT now(),
    performance_id bigint NOT NULL REFERENCES performances ON DELETE CASCADE,
    ticket_id      uuid REFERENCES tickets,
    gate           text NOT NULL CHECK (length(gate) BETWEEN 1 AND 32),
    staff_id       bigint REFERENCES staff,
    result         text NOT NULL CHECK (result IN ('admitted', 'already-used', 'invalid', 'cancelled', 'wrong-performance')),
    -- reason refines result: bad_token, unknown_ticket and token_mismatch
    -- for invalid; admitted, checked_in, cancelled, other_performance.
    reason         text NOT NULL CHECK (reason ~ '^[a-z_]{1,32}$'),
    -- token is the text scanned, kept for the audit of forgeries; it is
    -- bounded like tickets.Ring.Verify's input.
    token          text NOT NULL DEFAULT '' CHECK (length(token) <= 512),
    nonce          text UNIQUE CHECK (nonce ~ '^[A-Za-z0-9_-]{16,64}$'),
    offline        boolean NOT NULL DEFAULT false,
    -- local_result is the verdict an offline door gave on its own, from
    -- its downloaded list. A door that admitted a ticket the database had
    -- already let in elsewhere (local admitted, result already-used) let
    -- one ticket in twice: a duplicate, reported to every door and the
    -- council.
    local_result   text CHECK (local_result IN ('admitted', 'already-used', 'invalid', 'cancelled', 'wrong-performance'))
);
CREATE INDEX scan_log_performance ON scan_log (performance_id, at);
CREATE INDEX scan_log_duplicates ON scan_log (performance_id)
    WHERE local_result = 'admitted' AND result = 'already-used';
CREATE INDEX scan_log_ticket ON scan_log (ticket_id) WHERE ticket_id IS NOT NULL;
-- Counting a door's admissions is part of every scan's answer.
CREATE INDEX check_ins_gate ON check_ins (gate, ticket_id);

-- A cancelled ticket never gets in, whatever code path inserts the check-in.
-- The trigger's query takes a fresh snapshot, so it sees a cancellation that
-- committed while the insert waited.
CREATE FUNCTION festa_check_in_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket_id AND status = 'active') THEN
        RAISE EXCEPTION 'ticket % is not active', NEW.ticket_id
            USING ERRCODE = 'P0001', HINT = 'festa:ticket_cancelled';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER check_ins_active BEFORE INSERT ON check_ins
    FOR EACH ROW EXECUTE FUNCTION festa_check_in_active();

-- A ticket used at the gate stays: festa_cancel_ticket checks for a
-- check-in before it cancels, but with the snapshot its statement started
-- with, so a scan that committed while the cancel waited for the ticket's
-- row lock would go unseen and the seat would be freed under a student who
-- is already inside. This trigger looks again with a fresh snapshot.
CREATE FUNCTION festa_ticket_used_stays() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM check_ins WHERE ticket_id = NEW.id) THEN
        RAISE EXCEPTION 'ticket % was used at the gate', NEW.id
            USING ERRCODE = 'P0001', HINT = 'festa:checked_in';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER tickets_used_stays BEFORE UPDATE OF status ON tickets
    FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status = 'cancelled')
    EXECUTE FUNCTION festa_ticket_used_stays();

-- festa_scan is one scan at door p_gate of performance p_performance (a
-- slug) by staff p_staff. p_ticket is the ticket id of a token whose
-- signature Go has verified, or NULL with p_reason saying why it was
-- refused; p_token is the text scanned. p_nonce (or NULL) names the scan
-- for an idempotent resend; p_scanned_at (or NULL for now) is when an
-- offline door scanned it, and marks the scan as offline; p_local (or
-- NULL) is the verdict that door gave on its own.
--
-- r_result is one of the verdicts, or no_performance (nothing written).
-- The checks go in this order: invalid (bad token, unknown ticket, a token
-- that is not the ticket's), cancelled, wrong-performance, then the insert
-- into check_ins decides admitted or already-used. r_first_at and
-- r_first_gate tell when and where the ticket got in; r_gate_count counts
-- the door's admissions for the performance; r_replayed is true when the
-- nonce was seen before and the first verdict is returned unchanged.
--
-- The ticket row is locked FOR SHARE, so a cancellation (which updates it)
-- either commits before the scan looks, or waits until the check-in has
-- committed and is then refused by tickets_used_stays. Shared locks do not
-- block each other: doors scanning the same ticket race only on the unique
-- check-in, and ON CONFLICT waits for the winner to commit, so the
-- statement after it reads the winning row.
CREATE FUNCTION festa_scan(p_performance text, p_gate text, p_staff bigint, p_ticket uuid, p_token text,
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
        SELECT t.status, t.token, t.performance_id, p.slug, p.title, s.label, st.student_no, st.name
          INTO tk
          FROM tickets t
          JOIN performances p ON p.id = t.performance_id
          JOIN seats s ON s.id = t.seat_id
          JOIN students st ON st.id = t.student_id
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
