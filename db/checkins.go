package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Gate verdicts, the CONTRACT's data-result values.
const (
	Admitted         = "admitted"
	AlreadyUsed      = "already-used"
	Invalid          = "invalid"
	Cancelled        = "cancelled"
	WrongPerformance = "wrong-performance"
)

// ReasonBadToken is the scan_log reason of a token that did not verify
// (forged, altered or unreadable); the database gives the other reasons.
const ReasonBadToken = "bad_token"

// Scan is one ticket scanned at a door.
type Scan struct {
	Performance string // slug of the performance the door admits to
	Gate        string // the door's name, 1–32 characters
	StaffID     int64  // who scanned
	// TicketID is the id inside a token whose signature verified, or ""
	// when it did not (Reason then says why).
	TicketID string
	Reason   string
	Token    string // the text scanned, as scanned
	// Nonce is the scanner's id for this scan ("" for none): a scan sent
	// again with the same nonce is applied once.
	Nonce string
	// ScannedAt is when an offline door scanned the ticket; zero for now.
	// A time in the future counts as now.
	ScannedAt time.Time
	// Local is the verdict an offline door gave on its own ("" online).
	Local string
}

// Verdict is the database's answer to a Scan.
type Verdict struct {
	Result string // Admitted, AlreadyUsed, Invalid, Cancelled or WrongPerformance
	Reason string // the finer reason kept in scan_log
	// The ticket's details; empty for Invalid. A guest's ticket (the
	// desk's, migrations/007_ticket_desk.sql) has the guest's name as
	// StudentName, no StudentNo, and Guest set.
	SeatLabel        string
	StudentNo        string
	StudentName      string
	Guest            bool
	PerformanceSlug  string // the ticket's performance (the right one, for WrongPerformance)
	PerformanceTitle string
	// FirstAt and FirstGate say when and where the ticket got in (for
	// Admitted, this scan); zero when it has not.
	FirstAt   time.Time
	FirstGate string
	// GateCount is how many tickets of the performance this door has
	// admitted, this scan included.
	GateCount int
	// Replayed is true when the nonce had been seen: nothing was written and
	// the first verdict is returned.
	Replayed bool
	// Duplicate is true when an offline door admitted a ticket that had
	// already got in: one ticket, two people.
	Duplicate bool
	// DoorPerformanceID is the id of the performance the door admits to
	// (Scan.Performance), for the live counts' notification.
	DoorPerformanceID int64
}

// NewAdmission reports whether the scan let a ticket in just now: a check-in
// was written, so the performance's counts moved. A replayed scan wrote
// nothing.
func (v Verdict) NewAdmission() bool { return v.Result == Admitted && !v.Replayed }

// RecordScan records one scan and decides its verdict, in one statement
// (festa_scan in migrations/005_gate.sql): a ticket is admitted by the
// insert into check_ins that wins its unique ticket_id, never by a read
// followed by a write, so of any number of doors scanning one ticket at
// once exactly one admits it. Every scan, refused or not, is kept in
// scan_log with its reason. An unknown performance is ErrNotFound and
// writes nothing.
func (s *Store) RecordScan(ctx context.Context, sc Scan) (Verdict, error) {
	var (
		v                 Verdict
		seat, no, name    *string
		slug, title, gate *string
		firstAt           *time.Time
	)
	err := s.Pool.QueryRow(ctx, `SELECT r_result, coalesce(r_reason, ''), r_seat, r_student_no, r_student_name,
			r_performance_slug, r_performance_title, r_first_at, r_first_gate, coalesce(r_gate_count, 0), r_replayed,
			coalesce((SELECT id FROM performances WHERE slug = $1), 0)
		FROM festa_scan($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		sc.Performance, sc.Gate, nullable(sc.StaffID), nullable(sc.TicketID), sc.Token,
		nullable(sc.Reason), nullable(sc.Nonce), nullable(sc.ScannedAt), nullable(sc.Local)).
		Scan(&v.Result, &v.Reason, &seat, &no, &name, &slug, &title, &firstAt, &gate, &v.GateCount, &v.Replayed,
			&v.DoorPerformanceID)
	if err != nil {
		return Verdict{}, fmt.Errorf("db: scan: %w", err)
	}
	if v.Result == "no_performance" {
		return Verdict{}, ErrNotFound
	}
	v.SeatLabel, v.StudentNo, v.StudentName = deref(seat), deref(no), deref(name)
	// festa_scan names a known ticket's holder and gives a guest, who has
	// no student, an empty number; every student has one.
	v.Guest = seat != nil && v.StudentNo == ""
	v.PerformanceSlug, v.PerformanceTitle, v.FirstGate = deref(slug), deref(title), deref(gate)
	if firstAt != nil {
		v.FirstAt = *firstAt
	}
	v.Duplicate = sc.Local == Admitted && v.Result == AlreadyUsed
	return v, nil
}

// nullable is v, or nil (SQL NULL) when v is its type's zero value.
func nullable[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GateTicket is a ticket as the gate's manual lookup lists it: a
// student's, or a guest's (StudentNo "", the guest's name as StudentName).
type GateTicket struct {
	ID          string
	SeatLabel   string
	StudentNo   string
	StudentName string
	Guest       bool
	Status      string // active or cancelled
	Token       string
	CheckedInAt *time.Time
	CheckedGate string
}

// LookupGateTickets finds the tickets of the performance (a slug) at seat
// label q, or of the student with number q, for a student whose phone has
// died: live tickets first, then by seat. A guest's ticket (no student)
// is found by its seat.
func (s *Store) LookupGateTickets(ctx context.Context, performance, q string) ([]GateTicket, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT t.id::text, s.label, coalesce(st.student_no, ''),
			coalesce(st.name, t.guest_name), t.student_id IS NULL, t.status, t.token,
			c.checked_in_at, coalesce(c.gate, '')
		FROM tickets t
		JOIN performances p ON p.id = t.performance_id
		JOIN seats s ON s.id = t.seat_id
		LEFT JOIN students st ON st.id = t.student_id
		LEFT JOIN check_ins c ON c.ticket_id = t.id
		WHERE p.slug = $1 AND (s.label = $2 OR st.student_no = $2)
		ORDER BY t.status = 'active' DESC, s.y, s.x, t.issued_at DESC
		LIMIT 20`, performance, q)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GateTicket, error) {
		var g GateTicket
		err := row.Scan(&g.ID, &g.SeatLabel, &g.StudentNo, &g.StudentName, &g.Guest, &g.Status, &g.Token,
			&g.CheckedInAt, &g.CheckedGate)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: gate lookup: %w", err)
	}
	return out, nil
}

// GateTally is a performance's admissions: every door's and the total.
type GateTally struct {
	Total int
	Gates []GateAdmissions // most admissions first, then by name
}

// Count is how many tickets door gate has let in.
func (g GateTally) Count(gate string) int {
	for _, a := range g.Gates {
		if a.Gate == gate {
			return a.Count
		}
	}
	return 0
}

// GateTally counts the performance's admissions per door, in one
// statement: the scanner page draws it, and its live hub reads it again
// whenever a check-in is announced (CheckInChannelPrefix).
func (s *Store) GateTally(ctx context.Context, performanceID int64) (GateTally, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT c.gate, count(*)::int
		FROM check_ins c JOIN tickets t ON t.id = c.ticket_id
		WHERE t.performance_id = $1
		GROUP BY c.gate
		ORDER BY 2 DESC, 1`, performanceID)
	gates, err := pgx.CollectRows(rows, pgx.RowToStructByPos[GateAdmissions])
	if err != nil {
		return GateTally{}, fmt.Errorf("db: gate tally: %w", err)
	}
	g := GateTally{Gates: gates}
	for _, a := range gates {
		g.Total += a.Count
	}
	return g, nil
}

// CheckInChannelPrefix starts the payload of the NOTIFY festa_seats sent
// after tickets of a performance were let in ("checkin:12"): every
// instance's gate scanners and projection screen of performance 12 recount
// the admissions. It rides the seat changes' channel, so the one LISTEN
// connection of each instance hears it.
const CheckInChannelPrefix = "checkin:"

// NotifyCheckIns wakes every app instance's listener for the admissions of
// the performances. Like NotifySeats it runs after the check-ins have
// committed, outside their statement, so a scan never waits on
// PostgreSQL's cluster-wide notify lock.
func (s *Store) NotifyCheckIns(ctx context.Context, performanceIDs []int64) error {
	if len(performanceIDs) == 0 {
		return nil
	}
	_, err := s.Pool.Exec(ctx, `SELECT pg_notify('festa_seats', $2 || id::text) FROM unnest($1::bigint[]) AS id`,
		performanceIDs, CheckInChannelPrefix)
	if err != nil {
		return fmt.Errorf("db: notify check-ins: %w", err)
	}
	return nil
}

// OfflineTicket is a ticket as an offline door keeps it: enough to verify,
// refuse and show the admit verdict, and nothing more. A guest's ticket
// has no StudentNo and the guest's name as StudentName.
type OfflineTicket struct {
	ID          string
	SeatLabel   string
	StudentNo   string
	StudentName string
	Guest       bool
	Cancelled   bool
	CheckedInAt *time.Time
	CheckedGate string
}

// OfflineTickets lists every ticket of the performance (a slug) with its
// state, for doors that must keep working when the Wi-Fi drops. Guests'
// tickets are in it too: a door that did not know one would let it in
// nameless, however often, even cancelled.
func (s *Store) OfflineTickets(ctx context.Context, performance string) ([]OfflineTicket, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT t.id::text, s.label, coalesce(st.student_no, ''),
			coalesce(st.name, t.guest_name), t.student_id IS NULL, t.status = 'cancelled',
			c.checked_in_at, coalesce(c.gate, '')
		FROM tickets t
		JOIN performances p ON p.id = t.performance_id
		JOIN seats s ON s.id = t.seat_id
		LEFT JOIN students st ON st.id = t.student_id
		LEFT JOIN check_ins c ON c.ticket_id = t.id
		WHERE p.slug = $1
		ORDER BY t.issued_at, t.id`, performance)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OfflineTicket, error) {
		var o OfflineTicket
		err := row.Scan(&o.ID, &o.SeatLabel, &o.StudentNo, &o.StudentName, &o.Guest, &o.Cancelled, &o.CheckedInAt,
			&o.CheckedGate)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("db: offline tickets: %w", err)
	}
	return out, nil
}

// Duplicate is a ticket that got in twice: first through FirstGate, then
// through Gate by a door that was offline and did not know. StudentName
// is a guest's name for a guest's ticket.
type Duplicate struct {
	SeatLabel   string
	StudentName string
	FirstAt     time.Time
	FirstGate   string
	At          time.Time // when the offline door scanned it
	Gate        string
}

// Duplicates lists the performance's (a slug) duplicates, newest first.
func (s *Store) Duplicates(ctx context.Context, performance string) ([]Duplicate, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT s.label, coalesce(st.name, t.guest_name), c.checked_in_at, c.gate,
			l.scanned_at, l.gate
		FROM scan_log l
		JOIN performances p ON p.id = l.performance_id
		JOIN tickets t ON t.id = l.ticket_id
		JOIN seats s ON s.id = t.seat_id
		LEFT JOIN students st ON st.id = t.student_id
		JOIN check_ins c ON c.ticket_id = t.id
		WHERE p.slug = $1 AND l.local_result = 'admitted' AND l.result = 'already-used'
		ORDER BY l.scanned_at DESC, l.id DESC
		LIMIT 100`, performance)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Duplicate])
	if err != nil {
		return nil, fmt.Errorf("db: duplicates: %w", err)
	}
	return out, nil
}
