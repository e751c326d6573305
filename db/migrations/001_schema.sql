-- festa's first schema. The database, not the Go code, is what makes double
-- selling impossible: see the unique indexes on tickets and check_ins and the
-- seat trigger at the end of this file.

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone  text NOT NULL DEFAULT 'Asia/Seoul',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE halls (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

-- A seat is drawn at (x, y) on the hall's grid; y = 0 is the row nearest the
-- stage, and gaps in x are aisles.
CREATE TABLE seats (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hall_id   bigint NOT NULL REFERENCES halls ON DELETE CASCADE,
    label     text NOT NULL CHECK (label ~ '^[A-Z]{1,2}[0-9]{1,3}$'),
    row_label text NOT NULL CHECK (row_label ~ '^[A-Z]{1,2}$'),
    number    int NOT NULL CHECK (number BETWEEN 1 AND 999),
    x         int NOT NULL CHECK (x >= 0),
    y         int NOT NULL CHECK (y >= 0),
    kind      text NOT NULL DEFAULT 'standard' CHECK (kind IN ('standard', 'accessible', 'blocked')),
    UNIQUE (hall_id, label),
    UNIQUE (hall_id, x, y)
);

CREATE TABLE performances (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id       bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    hall_id        bigint NOT NULL REFERENCES halls,
    slug           text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    starts_at      timestamptz NOT NULL,
    sales_open_at  timestamptz NOT NULL,
    sales_close_at timestamptz NOT NULL,
    paused         boolean NOT NULL DEFAULT false,
    pause_message  text NOT NULL DEFAULT '' CHECK (length(pause_message) <= 500),
    ticket_limit   int NOT NULL DEFAULT 1 CHECK (ticket_limit BETWEEN 1 AND 10),
    hold_seconds   int NOT NULL DEFAULT 180 CHECK (hold_seconds BETWEEN 30 AND 1800),
    -- version counts seat changes; it is bumped by the seat trigger only and
    -- orders the change log (seat_changes) for live viewers.
    version        bigint NOT NULL DEFAULT 0,
    CHECK (sales_close_at > sales_open_at)
);

CREATE TABLE students (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_no text NOT NULL UNIQUE CHECK (student_no ~ '^[0-9]{5}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    code_hash  text NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{2,32}$'),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('council', 'gate')),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The live state of every seat of a performance. An expired hold (held_until
-- in the past) counts as available everywhere, so a seat is free the moment
-- its hold runs out, whether or not the sweeper has run yet.
CREATE TABLE performance_seats (
    performance_id bigint NOT NULL REFERENCES performances ON DELETE CASCADE,
    seat_id        bigint NOT NULL REFERENCES seats,
    state          text NOT NULL CHECK (state IN ('available', 'held', 'sold', 'blocked')),
    student_id     bigint REFERENCES students,
    held_until     timestamptz,
    version        bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (performance_id, seat_id),
    CHECK ((state IN ('held', 'sold')) = (student_id IS NOT NULL)),
    CHECK ((state = 'held') = (held_until IS NOT NULL))
);
CREATE INDEX performance_seats_student ON performance_seats (performance_id, student_id) WHERE student_id IS NOT NULL;
CREATE INDEX performance_seats_expiry ON performance_seats (held_until) WHERE state = 'held';

CREATE TABLE tickets (
    id             uuid PRIMARY KEY,
    performance_id bigint NOT NULL REFERENCES performances,
    seat_id        bigint NOT NULL REFERENCES seats,
    student_id     bigint NOT NULL REFERENCES students,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    key_id         text NOT NULL,
    token          text NOT NULL,
    issued_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at   timestamptz,
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- One live ticket per seat per performance: the last word on double selling.
CREATE UNIQUE INDEX tickets_one_active_per_seat ON tickets (performance_id, seat_id) WHERE status = 'active';
CREATE INDEX tickets_student ON tickets (student_id, performance_id);

CREATE TABLE check_ins (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id     uuid NOT NULL UNIQUE REFERENCES tickets, -- a ticket gets in once
    staff_id      bigint REFERENCES staff,
    gate          text NOT NULL DEFAULT '' CHECK (length(gate) <= 64),
    checked_in_at timestamptz NOT NULL DEFAULT now()
);

-- The change feed (an outbox): one row per seat change, numbered by the
-- performance's version in commit order, because the trigger below holds the
-- performance row lock until commit. Live viewers catch up from here, so a
-- lost NOTIFY never loses an update.
CREATE TABLE seat_changes (
    performance_id bigint NOT NULL REFERENCES performances ON DELETE CASCADE,
    version        bigint NOT NULL,
    seat_id        bigint NOT NULL REFERENCES seats,
    state          text NOT NULL,
    student_id     bigint,
    held_until     timestamptz,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (performance_id, version)
);

CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_kind     text NOT NULL CHECK (actor_kind IN ('student', 'staff', 'system')),
    actor_id       bigint,
    action         text NOT NULL,
    performance_id bigint REFERENCES performances ON DELETE CASCADE,
    seat_label     text,
    ip             text NOT NULL DEFAULT '',
    user_agent     text NOT NULL DEFAULT '',
    before         jsonb,
    after          jsonb
);
CREATE INDEX audit_log_performance ON audit_log (performance_id, at);

-- Server-side sessions (alexedwards/scs pgxstore layout), so any app instance
-- serves any signed-in user.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- seat_change runs before every change to a seat's state. It
--   * takes the performance row lock (callers take it first, to keep one lock
--     order: performance, then seats),
--   * refuses a hold or sale that would put the student over the
--     performance's ticket limit (live holds and sales both count),
--   * numbers the change and appends it to seat_changes.
CREATE FUNCTION seat_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v     bigint;
    lim   int;
    owned int;
BEGIN
    IF NEW.state = OLD.state AND NEW.student_id IS NOT DISTINCT FROM OLD.student_id
       AND NEW.held_until IS NOT DISTINCT FROM OLD.held_until THEN
        RETURN NEW;
    END IF;
    UPDATE performances SET version = version + 1 WHERE id = NEW.performance_id
        RETURNING version, ticket_limit INTO v, lim;
    IF NEW.student_id IS NOT NULL AND NEW.student_id IS DISTINCT FROM OLD.student_id THEN
        SELECT count(*) INTO owned FROM performance_seats
         WHERE performance_id = NEW.performance_id AND student_id = NEW.student_id
           AND seat_id <> NEW.seat_id
           AND (state = 'sold' OR (state = 'held' AND held_until > now()));
        IF owned >= lim THEN
            RAISE EXCEPTION 'student % is at the ticket limit of performance %', NEW.student_id, NEW.performance_id
                USING ERRCODE = 'P0001', HINT = 'festa:limit';
        END IF;
    END IF;
    NEW.version := v;
    NEW.updated_at := now();
    INSERT INTO seat_changes (performance_id, version, seat_id, state, student_id, held_until)
    VALUES (NEW.performance_id, v, NEW.seat_id, NEW.state, NEW.student_id, NEW.held_until);
    RETURN NEW;
END;
$$;

CREATE TRIGGER performance_seats_change BEFORE UPDATE ON performance_seats
    FOR EACH ROW EXECUTE FUNCTION seat_change();

-- A sold seat must be backed by exactly the active ticket of its holder; this
-- deferred check catches any code path that sells without a ticket or cancels
-- a ticket without freeing the seat.
CREATE FUNCTION seat_ticket_consistent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'sold' AND NOT EXISTS (
        SELECT 1 FROM tickets t
         WHERE t.performance_id = NEW.performance_id AND t.seat_id = NEW.seat_id
           AND t.student_id = NEW.student_id AND t.status = 'active') THEN
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

CREATE CONSTRAINT TRIGGER performance_seats_ticket AFTER UPDATE ON performance_seats
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION seat_ticket_consistent();
