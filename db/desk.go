package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The ticket desk (handlers/admin_desk.go): the council finds a student or
// a seat and fixes what went wrong. Every write is one of the festa_desk_*
// functions of migrations/007_ticket_desk.sql, under the seats' locks,
// with audit rows naming the council member and the reason they gave.

// Desk refusals, besides the booking errors (ErrSeatTaken, ErrSeatBlocked,
// ErrSeatNotFound, ErrTicketCancelled, ErrCheckedIn, ErrNoHold).
var (
	ErrOtherPerformance = errors.New("seat is in another performance")
	ErrSameSeat         = errors.New("ticket is already in that seat")
	ErrNotReserved      = errors.New("seat is not held back for the council")
)

// deskRefusal maps a festa_desk_* result code to its error.
func deskRefusal(code string) error {
	switch code {
	case "other_performance":
		return ErrOtherPerformance
	case "same_seat":
		return ErrSameSeat
	case "not_reserved":
		return ErrNotReserved
	}
	return refusal(code)
}

// DeskStudentHit is a student a desk search found.
type DeskStudentHit struct {
	No      string
	Name    string
	Enabled bool
}

// deskSearchLimit bounds a name search's list.
const deskSearchLimit = 20

// FindStudents finds students by number (q all digits: numbers starting
// with q) or else by a part of their name, in number order, at most 20.
func (s *Store) FindStudents(ctx context.Context, q string) ([]DeskStudentHit, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	where, arg := `student_no LIKE $1 || '%'`, q
	if strings.Trim(q, "0123456789") != "" {
		where = `name ILIKE '%' || $1 || '%'`
		arg = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	}
	rows, _ := s.Pool.Query(ctx, `SELECT student_no, name, enabled FROM students WHERE `+where+`
		ORDER BY student_no LIMIT $2`, arg, deskSearchLimit)
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeskStudentHit, error) {
		var h DeskStudentHit
		return h, row.Scan(&h.No, &h.Name, &h.Enabled)
	})
	if err != nil {
		return nil, fmt.Errorf("db: find students: %w", err)
	}
	return hits, nil
}

// DeskTicket is a ticket as the desk shows and prints it: a student's or a
// guest's.
type DeskTicket struct {
	ID               string
	PerformanceID    int64
	PerformanceSlug  string
	PerformanceTitle string
	HallName         string
	StartsAt         time.Time
	SeatLabel        string
	RowLabel         string
	SeatNumber       int
	StudentNo        string // "" for a guest
	StudentName      string
	GuestName        string // "" for a student
	Status           string // active or cancelled
	Token            string
	IssuedAt         time.Time
	CancelledAt      *time.Time
	CheckedInAt      *time.Time
	CheckedGate      string
}

const deskTicketColumns = `t.id::text, p.id, p.slug, p.title, h.name, p.starts_at, s.label, s.row_label, s.number,
	coalesce(st.student_no, ''), coalesce(st.name, ''), coalesce(t.guest_name, ''), t.status, t.token, t.issued_at,
	t.cancelled_at, c.checked_in_at, coalesce(c.gate, '')`

const deskTicketFrom = `FROM tickets t
	JOIN performances p ON p.id = t.performance_id
	JOIN halls h ON h.id = p.hall_id
	JOIN seats s ON s.id = t.seat_id
	LEFT JOIN students st ON st.id = t.student_id
	LEFT JOIN check_ins c ON c.ticket_id = t.id`

func scanDeskTicket(row pgx.CollectableRow) (DeskTicket, error) {
	var t DeskTicket
	err := row.Scan(&t.ID, &t.PerformanceID, &t.PerformanceSlug, &t.PerformanceTitle, &t.HallName, &t.StartsAt,
		&t.SeatLabel, &t.RowLabel, &t.SeatNumber, &t.StudentNo, &t.StudentName, &t.GuestName, &t.Status, &t.Token,
		&t.IssuedAt, &t.CancelledAt, &t.CheckedInAt, &t.CheckedGate)
	return t, err
}

// DeskTicketByID returns any ticket, a student's or a guest's.
func (s *Store) DeskTicketByID(ctx context.Context, id string) (DeskTicket, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT `+deskTicketColumns+` `+deskTicketFrom+` WHERE t.id = $1::uuid`, id)
	t, err := pgx.CollectExactlyOneRow(rows, scanDeskTicket)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("db: desk ticket: %w", err)
	}
	return t, nil
}

// DeskHold is a student's hold on a seat; Live is false once it has run
// out (the sweeper has not freed it yet).
type DeskHold struct {
	PerformanceSlug  string
	PerformanceTitle string
	SeatLabel        string
	HeldUntil        time.Time
	Live             bool
}

// DeskAudit is one audit row as the desk lists it.
type DeskAudit struct {
	At          time.Time
	ActorKind   string // student, staff or system
	ActorName   string // staff username or student number
	Action      string
	Performance string // slug
	SeatLabel   string
	Reason      string // the council's reason, for desk actions
}

// deskAuditLimit is how many audit rows the desk shows; the audit viewer
// has the rest.
const deskAuditLimit = 30

const deskAuditColumns = `a.at, a.actor_kind, coalesce(sf.username, sa.student_no, ''), a.action,
	coalesce(p.slug, ''), coalesce(a.seat_label, ''), coalesce(a.after->>'reason', '')`

const deskAuditFrom = `FROM audit_log a
	LEFT JOIN performances p ON p.id = a.performance_id
	LEFT JOIN staff sf ON a.actor_kind = 'staff' AND sf.id = a.actor_id
	LEFT JOIN students sa ON a.actor_kind = 'student' AND sa.id = a.actor_id`

func scanDeskAudit(row pgx.CollectableRow) (DeskAudit, error) {
	var a DeskAudit
	err := row.Scan(&a.At, &a.ActorKind, &a.ActorName, &a.Action, &a.Performance, &a.SeatLabel, &a.Reason)
	return a, err
}

// DeskStudent is a student with their holds, tickets and audit trail.
type DeskStudent struct {
	ID      int64
	No      string
	Name    string
	Enabled bool
	Holds   []DeskHold
	Tickets []DeskTicket // newest first
	Audit   []DeskAudit  // newest first, at most 30
}

// DeskStudentByNo returns the student with everything the desk shows.
func (s *Store) DeskStudentByNo(ctx context.Context, no string) (DeskStudent, error) {
	var d DeskStudent
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, student_no, name, enabled FROM students WHERE student_no = $1`, no).
			Scan(&d.ID, &d.No, &d.Name, &d.Enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT p.slug, p.title, s.label, ps.held_until, ps.held_until > now()
			FROM performance_seats ps JOIN performances p ON p.id = ps.performance_id JOIN seats s ON s.id = ps.seat_id
			WHERE ps.student_id = $1 AND ps.state = 'held'
			ORDER BY p.starts_at, s.y, s.x`, d.ID)
		if d.Holds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeskHold, error) {
			var h DeskHold
			return h, row.Scan(&h.PerformanceSlug, &h.PerformanceTitle, &h.SeatLabel, &h.HeldUntil, &h.Live)
		}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT `+deskTicketColumns+` `+deskTicketFrom+`
			WHERE t.student_id = $1 ORDER BY t.status, t.issued_at DESC`, d.ID)
		if d.Tickets, err = pgx.CollectRows(rows, scanDeskTicket); err != nil {
			return err
		}
		// What the student did, and what was done to their seats.
		rows, _ = tx.Query(ctx, `SELECT `+deskAuditColumns+` `+deskAuditFrom+`
			WHERE (a.actor_kind = 'student' AND a.actor_id = $1)
			   OR a.before->>'student_id' = $1::text OR a.after->>'student_id' = $1::text
			ORDER BY a.at DESC, a.id DESC LIMIT $2`, d.ID, deskAuditLimit)
		d.Audit, err = pgx.CollectRows(rows, scanDeskAudit)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return d, err
	}
	if err != nil {
		return d, fmt.Errorf("db: desk student: %w", err)
	}
	return d, nil
}

// DeskSeat is a seat of a performance with who has it and its history.
type DeskSeat struct {
	Label      string
	Kind       string // standard, accessible or blocked (a place of the hall that is no seat)
	State      string // available, held, sold or blocked, an expired hold as available
	HeldUntil  time.Time
	HolderNo   string // the student holding or owning it, if any
	HolderName string
	Ticket     *DeskTicket // its active ticket, if any
	Audit      []DeskAudit
}

// Reserved reports whether the council holds the seat back: blocked,
// though the hall has a seat there.
func (d DeskSeat) Reserved() bool { return d.State == "blocked" && d.Kind != "blocked" }

// DeskSeatByLabel returns the seat labelled label of the performance.
func (s *Store) DeskSeatByLabel(ctx context.Context, performanceID int64, label string) (DeskSeat, error) {
	var d DeskSeat
	err := pgx.BeginTxFunc(ctx, s.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var ticket *string
		err := tx.QueryRow(ctx, `SELECT s.label, s.kind, `+effectiveState+`,
				CASE WHEN ps.state = 'held' AND ps.held_until > now() THEN ps.held_until ELSE 'epoch'::timestamptz END,
				CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN '' ELSE coalesce(st.student_no, '') END,
				CASE WHEN ps.state = 'held' AND ps.held_until <= now() THEN '' ELSE coalesce(st.name, '') END,
				(SELECT t.id::text FROM tickets t WHERE t.performance_id = ps.performance_id AND t.seat_id = ps.seat_id
				   AND t.status = 'active')
			FROM performance_seats ps JOIN seats s ON s.id = ps.seat_id
			LEFT JOIN students st ON st.id = ps.student_id
			WHERE ps.performance_id = $1 AND s.label = $2`, performanceID, label).
			Scan(&d.Label, &d.Kind, &d.State, &d.HeldUntil, &d.HolderNo, &d.HolderName, &ticket)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if d.HeldUntil.Unix() == 0 {
			d.HeldUntil = time.Time{}
		}
		if ticket != nil {
			rows, _ := tx.Query(ctx, `SELECT `+deskTicketColumns+` `+deskTicketFrom+` WHERE t.id = $1::uuid`, *ticket)
			t, err := pgx.CollectExactlyOneRow(rows, scanDeskTicket)
			if err != nil {
				return err
			}
			d.Ticket = &t
		}
		rows, _ := tx.Query(ctx, `SELECT `+deskAuditColumns+` `+deskAuditFrom+`
			WHERE a.performance_id = $1 AND a.seat_label = $2
			ORDER BY a.at DESC, a.id DESC LIMIT $3`, performanceID, label, deskAuditLimit)
		d.Audit, err = pgx.CollectRows(rows, scanDeskAudit)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return d, err
	}
	if err != nil {
		return d, fmt.Errorf("db: desk seat: %w", err)
	}
	return d, nil
}

// deskArgs are the council member's id, address and user agent, and the
// reason, as the festa_desk_* functions take them.
func deskArgs(a Actor, reason string) []any {
	args := actorArgs(a)
	return []any{args[1], args[2], args[3], reason}
}

// CancelTicketAtDesk cancels any active ticket (a student's or a guest's)
// and frees its seat, whatever the sales state; a ticket used at the gate
// stays.
func (s *Store) CancelTicketAtDesk(ctx context.Context, ticketID string, a Actor, reason string) error {
	var code string
	err := s.Pool.QueryRow(ctx, `SELECT festa_desk_cancel($1::uuid, $2, $3, $4, $5)`,
		append([]any{ticketID}, deskArgs(a, reason)...)...).Scan(&code)
	if err == nil {
		err = deskRefusal(code)
	}
	if err != nil {
		return fmt.Errorf("db: desk cancel: %w", mapDeskRaised(err))
	}
	return nil
}

// MoveTicket moves an active ticket to the seat labelled label of
// performanceID, which must be the ticket's own performance. The ticket
// keeps its id, holder and check-in; its token is signed again for the
// new seat (sign is called before the lock is taken).
func (s *Store) MoveTicket(ctx context.Context, ticketID string, performanceID int64, label string, sign Signer, a Actor, reason string) error {
	var slug string
	var now time.Time
	err := s.Pool.QueryRow(ctx, `SELECT p.slug, now() FROM tickets t JOIN performances p ON p.id = t.performance_id
		WHERE t.id = $1::uuid`, ticketID).Scan(&slug, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("db: move ticket: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("db: move ticket: %w", err)
	}
	now = now.Truncate(time.Second)
	keyID, token, err := sign(ticketID, slug, label, now)
	if err != nil {
		return fmt.Errorf("db: move ticket: sign: %w", err)
	}
	var code string
	err = s.Pool.QueryRow(ctx, `SELECT festa_desk_move($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		append([]any{ticketID, performanceID, label, keyID, token, now}, deskArgs(a, reason)...)...).Scan(&code)
	if err == nil {
		err = deskRefusal(code)
	}
	if err != nil {
		return fmt.Errorf("db: move ticket: %w", mapDeskRaised(err))
	}
	return nil
}

// ReleaseHoldAtDesk frees whatever hold is on the seat, live or expired.
func (s *Store) ReleaseHoldAtDesk(ctx context.Context, performanceID int64, label string, a Actor, reason string) error {
	var code string
	err := s.Pool.QueryRow(ctx, `SELECT festa_desk_release($1, $2, $3, $4, $5, $6)`,
		append([]any{performanceID, label}, deskArgs(a, reason)...)...).Scan(&code)
	if err == nil {
		err = deskRefusal(code)
	}
	if err != nil {
		return fmt.Errorf("db: desk release: %w", err)
	}
	return nil
}

// ReserveSeat holds a free seat back for the council (reserve) or gives a
// seat held back to sale again (not reserve).
func (s *Store) ReserveSeat(ctx context.Context, performanceID int64, label string, reserve bool, a Actor, reason string) error {
	var code string
	err := s.Pool.QueryRow(ctx, `SELECT festa_desk_reserve($1, $2, $3, $4, $5, $6, $7)`,
		append([]any{performanceID, label, reserve}, deskArgs(a, reason)...)...).Scan(&code)
	if err == nil {
		err = deskRefusal(code)
	}
	if err != nil {
		return fmt.Errorf("db: desk reserve: %w", err)
	}
	return nil
}

// IssueGuestTicket gives a seat the council held back to a guest, named
// on the ticket, and returns the ticket's id.
func (s *Store) IssueGuestTicket(ctx context.Context, performanceID int64, label, guest string, newID NewTicketID, sign Signer, a Actor, reason string) (string, error) {
	var slug string
	var now time.Time
	err := s.Pool.QueryRow(ctx, `SELECT slug, now() FROM performances WHERE id = $1`, performanceID).Scan(&slug, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("db: guest ticket: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("db: guest ticket: %w", err)
	}
	now = now.Truncate(time.Second)
	id, err := newID()
	if err != nil {
		return "", err
	}
	keyID, token, err := sign(id, slug, label, now)
	if err != nil {
		return "", fmt.Errorf("db: guest ticket: sign: %w", err)
	}
	var code string
	err = s.Pool.QueryRow(ctx, `SELECT festa_desk_issue_guest($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11)`,
		append([]any{performanceID, label, id, keyID, token, now, guest}, deskArgs(a, reason)...)...).Scan(&code)
	if err == nil {
		err = deskRefusal(code)
	}
	if err != nil {
		return "", fmt.Errorf("db: guest ticket: %w", err)
	}
	return id, nil
}

// mapDeskRaised is mapRaised plus the gate's guard: a ticket admitted
// while a cancel waited for its lock (tickets_used_stays).
func mapDeskRaised(err error) error {
	if pgCode(err) == "P0001" && hint(err) == "festa:checked_in" {
		return ErrCheckedIn
	}
	return mapRaised(err)
}
