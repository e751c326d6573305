package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The council's roster: importing a school's student list and issuing
// access codes. A student without a code has an empty code_hash, which
// sign-in treats like an unknown account (checked against a dummy hash),
// so a freshly imported student cannot sign in until the council prints
// their slip.

// RosterRow is one student of an import, already checked by package
// roster.
type RosterRow struct {
	No   string
	Name string
}

// RosterCounts says what an import does (or did): students added,
// renamed or re-enabled, left as they were, and disabled for not being in
// the file (only when asked to).
type RosterCounts struct {
	New       int `json:"new"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Disabled  int `json:"disabled"`
}

// ImportRoster loads rows in one transaction: a COPY into a temporary
// table, then one INSERT … ON CONFLICT that adds new students (without a
// code) and renames or re-enables known ones, and, when disableMissing is
// set, one UPDATE that disables enabled students the file does not name.
// With apply false nothing is kept: the transaction is rolled back and the
// counts are a preview. rows must not repeat a number (roster.Parse sees
// to that); a repeat fails the whole import.
func (s *Store) ImportRoster(ctx context.Context, rows []RosterRow, disableMissing, apply bool, by Actor) (RosterCounts, error) {
	var c RosterCounts
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return c, fmt.Errorf("import roster: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE roster_import (student_no text PRIMARY KEY, name text NOT NULL) ON COMMIT DROP`); err != nil {
		return c, fmt.Errorf("import roster: temp table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_import"}, []string{"student_no", "name"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{rows[i].No, rows[i].Name}, nil
		})); err != nil {
		return c, fmt.Errorf("import roster: copy: %w", err)
	}
	// Unchanged students are counted before the upsert, which skips them
	// (its WHERE), so their rows are not rewritten.
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM roster_import r JOIN students s USING (student_no)
		WHERE s.name = r.name AND s.enabled`).Scan(&c.Unchanged); err != nil {
		return c, fmt.Errorf("import roster: compare: %w", err)
	}
	if err := tx.QueryRow(ctx, `WITH up AS (
			INSERT INTO students (student_no, name, code_hash)
			SELECT student_no, name, '' FROM roster_import
			ON CONFLICT (student_no) DO UPDATE SET name = excluded.name, enabled = true
			WHERE students.name IS DISTINCT FROM excluded.name OR NOT students.enabled
			RETURNING (xmax = 0) AS inserted)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`).
		Scan(&c.New, &c.Updated); err != nil {
		return c, fmt.Errorf("import roster: upsert: %w", err)
	}
	if disableMissing {
		tag, err := tx.Exec(ctx, `UPDATE students SET enabled = false
			WHERE enabled AND NOT EXISTS (SELECT 1 FROM roster_import r WHERE r.student_no = students.student_no)`)
		if err != nil {
			return c, fmt.Errorf("import roster: disable: %w", err)
		}
		c.Disabled = int(tag.RowsAffected())
	}
	if !apply {
		return c, nil
	}
	if err := audit(ctx, tx, by, "roster_import", c); err != nil {
		return c, err
	}
	if err := tx.Commit(ctx); err != nil {
		return c, fmt.Errorf("import roster: commit: %w", err)
	}
	return c, nil
}

// audit writes one console action to the audit log.
func audit(ctx context.Context, tx pgx.Tx, by Actor, action string, after any) error {
	b, err := json.Marshal(after)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor_kind, actor_id, action, ip, user_agent, after)
		VALUES ($1, nullif($2, 0), $3, $4, $5, $6)`, by.Kind, by.ID, action, by.IP, by.UserAgent, b)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// RosterClass is one homeroom: grade and class read from the student
// numbers (20315 is grade 2, class 3).
type RosterClass struct {
	Grade, Class int
	Students     int // enabled students
	WithoutCode  int // enabled students who have no code yet
}

// RosterClasses lists the homerooms of enabled students, in order.
func (s *Store) RosterClasses(ctx context.Context) ([]RosterClass, error) {
	rows, err := s.Pool.Query(ctx, `SELECT substr(student_no, 1, 1)::int, substr(student_no, 2, 2)::int,
			count(*)::int, count(*) FILTER (WHERE code_hash = '')::int
		FROM students WHERE enabled GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("roster classes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RosterClass, error) {
		var c RosterClass
		err := r.Scan(&c.Grade, &c.Class, &c.Students, &c.WithoutCode)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("roster classes: %w", err)
	}
	return out, nil
}

// CodeHolder is a student due a new code.
type CodeHolder struct {
	ID   int64
	No   string
	Name string
}

// StudentsForCodes lists enabled students in number order: those without
// a code when class is "" (every homeroom), or everyone of one homeroom
// when class is its three-digit prefix ("203" for grade 2, class 3).
func (s *Store) StudentsForCodes(ctx context.Context, class string) ([]CodeHolder, error) {
	q := `SELECT id, student_no, name FROM students WHERE enabled AND code_hash = '' ORDER BY student_no`
	args := []any{}
	if class != "" {
		q = `SELECT id, student_no, name FROM students WHERE enabled AND left(student_no, 3) = $1 ORDER BY student_no`
		args = append(args, class)
	}
	rows, err := s.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("students for codes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CodeHolder, error) {
		var h CodeHolder
		err := r.Scan(&h.ID, &h.No, &h.Name)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("students for codes: %w", err)
	}
	return out, nil
}

// StudentByNo returns an enabled student as a CodeHolder.
func (s *Store) StudentByNo(ctx context.Context, no string) (CodeHolder, error) {
	var h CodeHolder
	err := s.Pool.QueryRow(ctx, `SELECT id, student_no, name FROM students WHERE student_no = $1 AND enabled`, no).
		Scan(&h.ID, &h.No, &h.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNotFound
	}
	if err != nil {
		return h, fmt.Errorf("student %s: %w", no, err)
	}
	return h, nil
}

// NewCode is a code hash for one student.
type NewCode struct {
	StudentID int64
	CodeHash  string
}

// SetStudentCodes replaces the codes of the given students in one
// transaction (the old codes stop working at the commit) and audits it
// with the count and the homeroom or student it was for.
func (s *Store) SetStudentCodes(ctx context.Context, codes []NewCode, scope string, by Actor) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		ids := make([]int64, len(codes))
		hashes := make([]string, len(codes))
		for i, c := range codes {
			ids[i], hashes[i] = c.StudentID, c.CodeHash
		}
		if _, err := tx.Exec(ctx, `UPDATE students s SET code_hash = n.hash
			FROM unnest($1::bigint[], $2::text[]) AS n(id, hash) WHERE s.id = n.id`, ids, hashes); err != nil {
			return fmt.Errorf("set codes: %w", err)
		}
		return audit(ctx, tx, by, "codes_issued", map[string]any{"count": len(codes), "scope": scope})
	})
}
