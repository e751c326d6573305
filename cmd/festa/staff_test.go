package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"festa/db"
	"festa/db/dbtest"
	"festa/passhash"
)

// staffRows is every staff account and the audit log's size.
func staffRows(t *testing.T, store *db.Store) string {
	t.Helper()
	var s string
	if err := store.Pool.QueryRow(context.Background(), `SELECT coalesce((SELECT string_agg(concat_ws('|', username, role, enabled, password_hash), ',' ORDER BY id) FROM staff), '')
		|| (SELECT count(*)::text FROM audit_log)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// runStaffWith runs `festa staff ARGS` with stdin as standard input, the
// way main does: an error is the one line main prints.
func runStaffWith(url, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	e := env{getenv: getenv(map[string]string{"DATABASE_URL": url}), stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	err = runStaff(context.Background(), e, args)
	return out.String(), errb.String(), err
}

// `festa staff add` makes an account from a piped password; every wrong
// use is refused with one line and writes nothing.
func TestStaffAdd(t *testing.T) {
	url := dbtest.URL(t)
	store, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	out, _, err := runStaffWith(url, "correct horse battery\n", "add", "--role", "council", "Chair")
	if err != nil || !strings.Contains(out, `created council account "chair"`) {
		t.Fatalf("staff add: %v %q", err, out)
	}
	st, err := store.StaffCredentials(context.Background(), "chair")
	if err != nil || st.Role != "council" || !st.Enabled {
		t.Fatalf("account: %+v %v", st, err)
	}
	if ok, _ := passhash.Verify(st.PasswordHash, "correct horse battery"); !ok {
		t.Fatal("the piped password does not verify")
	}
	if !strings.Contains(st.PasswordHash, "m=19456,t=2,p=1") {
		t.Errorf("not hashed with passhash.Default: %s", st.PasswordHash)
	}
	// The role flag may follow the name.
	if _, _, err := runStaffWith(url, "gatekeeper-pass", "add", "door", "--role", "gate"); err != nil {
		t.Fatalf("role after name: %v", err)
	}

	before := staffRows(t, store)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"password flag", "long enough pass", []string{"add", "--role", "gate", "--password", "hunter22222", "x1"}, "never an argument"},
		{"password flag with =", "long enough pass", []string{"add", "--role=gate", "-password=hunter22222", "x1"}, "never an argument"},
		{"bad role", "long enough pass", []string{"add", "--role", "admin", "x1"}, "--role must be council or gate"},
		{"no role", "long enough pass", []string{"add", "x1"}, "--role must be council or gate"},
		{"existing", "long enough pass", []string{"add", "--role", "gate", "CHAIR"}, "already exists"},
		{"short password", "short\n", []string{"add", "--role", "gate", "x1"}, "at least 10 characters"},
		{"no password", "", []string{"add", "--role", "gate", "x1"}, "no password"},
		{"bad name", "long enough pass", []string{"add", "--role", "gate", "no spaces"}, "username"},
		{"two names", "long enough pass", []string{"add", "--role", "gate", "a1", "b1"}, "exactly one USERNAME"},
		{"no subcommand", "", nil, "usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			argv := append([]string{"festa", "staff"}, tc.args...)
			// Through run, as main calls it; stdin comes from the test.
			e := env{getenv: getenv(map[string]string{"DATABASE_URL": url}), stdin: strings.NewReader(tc.stdin), stdout: &out, stderr: &errb}
			err := runStaff(context.Background(), e, argv[2:])
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tc.want)
			}
			if strings.Contains(errb.String(), "hunter") || strings.Contains(out.String(), "hunter") {
				t.Error("the password was echoed")
			}
		})
	}
	if staffRows(t, store) != before {
		t.Fatal("a refused staff add wrote something")
	}

	var help bytes.Buffer
	if err := run(context.Background(), []string{"festa", "staff", "add", "--help"}, getenv(nil), &help, &help); err != nil || !strings.Contains(help.String(), "Usage: festa staff add") {
		t.Errorf("staff add --help: %v %q", err, help.String())
	}
}
