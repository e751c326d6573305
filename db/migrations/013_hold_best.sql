-- "Best available" in one statement.
--
-- The handler used to choose a seat from the hall it holds in memory and
-- try festa_hold on it, up to five times, each try a round trip. When
-- sales open, hundreds press "best available" in the same second, all
-- shown the same free seats: most tries found their seat just taken, and
-- the requests that used all five were told "busy" while seats were left.
-- Near the sell-out the hall in memory, a few hundred milliseconds behind,
-- showed seats long gone, so nearly every try failed.
--
-- festa_hold_best takes the candidates in the caller's order of preference
-- (the picker's ranking of the hall as the instance sees it) and holds the
-- first one that is free in the database and not being booked at this
-- instant: a seat locked by a booking in flight is skipped (SKIP LOCKED),
-- not waited for, so a crowd spreads over the best seats one each instead
-- of queueing on one. When none of the candidates is free (they were all
-- taken since the caller's reading), it takes the front-most free seat,
-- regular seats before wheelchair spaces. The hold itself is festa_hold's,
-- with all its rules.
--
-- Locks are taken in the order of every booking: the student's, the
-- performance row, then the seat.
--
-- r_code is festa_hold's, or sold_out (no seat is free) or busy (the free
-- seats are all being booked at this instant).
CREATE FUNCTION festa_hold_best(p_performance bigint, p_labels text[], p_student bigint,
    p_actor_kind text, p_actor_id bigint, p_ip text, p_user_agent text,
    OUT r_code text, OUT r_seat_id bigint, OUT r_label text, OUT r_row_label text, OUT r_number int,
    OUT r_x int, OUT r_y int, OUT r_kind text, OUT r_state text, OUT r_student_id bigint,
    OUT r_held_until timestamptz, OUT r_version bigint, OUT r_released text[])
LANGUAGE plpgsql AS $$
DECLARE
    lk        record;
    candidate text;
    chosen    text;
BEGIN
    SELECT * INTO lk FROM festa_lock_performance(p_performance, true, p_student);
    IF lk.code IS NOT NULL THEN
        r_code := lk.code;
        RETURN;
    END IF;

    FOREACH candidate IN ARRAY coalesce(p_labels, '{}') LOOP
        SELECT s.label INTO chosen
          FROM performances p
          JOIN seats s ON s.hall_id = p.hall_id AND s.label = candidate
          JOIN performance_seats ps ON ps.performance_id = p.id AND ps.seat_id = s.id
         WHERE p.id = p_performance
           AND (ps.state = 'available' OR (ps.state = 'held' AND ps.held_until <= now()))
           FOR UPDATE OF ps SKIP LOCKED;
        EXIT WHEN FOUND;
    END LOOP;
    IF chosen IS NULL THEN
        SELECT s.label INTO chosen
          FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
         WHERE ps.performance_id = p_performance
           AND (ps.state = 'available' OR (ps.state = 'held' AND ps.held_until <= now()))
         ORDER BY s.kind = 'accessible', s.y, s.x
         LIMIT 1
           FOR UPDATE OF ps SKIP LOCKED;
    END IF;
    IF chosen IS NULL THEN
        r_code := CASE WHEN EXISTS (
                SELECT 1 FROM performance_seats ps
                 WHERE ps.performance_id = p_performance
                   AND (ps.state = 'available' OR (ps.state = 'held' AND ps.held_until <= now())))
            THEN 'busy' ELSE 'sold_out' END;
        RETURN;
    END IF;

    -- The seat is locked by this transaction now, so festa_hold takes it
    -- without waiting, and applies every rule of a hold.
    SELECT * INTO r_code, r_seat_id, r_label, r_row_label, r_number, r_x, r_y, r_kind, r_state,
                  r_student_id, r_held_until, r_version, r_released
      FROM festa_hold(p_performance, chosen, p_student, p_actor_kind, p_actor_id, p_ip, p_user_agent);
END;
$$;
