package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"unicode/utf8"

	"festa/db"
	"festa/passhash"
)

// MinStaffPassword is the shortest staff password, in characters; the
// console's password forms use the same limit.
const MinStaffPassword = 10

// maxStaffPassword bounds a password (the sign-in form takes 256 bytes).
const maxStaffPassword = 256

var staffUsernameRE = regexp.MustCompile(`^[a-z0-9_.-]{2,32}$`)

// runStaff is `festa staff add --role council|gate USERNAME`: the way the
// first council account of an empty database is made. The password is
// read from standard input, with a prompt and no echo when that is a
// terminal; never from an argument, which would leave it in the shell's
// history and the process list.
func runStaff(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(e.stdout, "Usage: festa staff add --role council|gate USERNAME\n\nCreate a staff account; the password is read from standard input (a prompt on a terminal).")
			return nil
		}
		return errors.New("staff: usage: festa staff add --role council|gate USERNAME")
	}
	fs := newFlags(e, "staff add", "Create a staff account USERNAME. The password is read from standard input: typed at a\nprompt (twice, not shown) on a terminal, else the first line. It is never an argument.\nUsage: festa staff add --role council|gate USERNAME")
	role := fs.String("role", "", "council (runs the console) or gate (scans tickets)")
	rest := args[1:]
	for _, a := range rest {
		if name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-"); strings.HasPrefix(a, "-") && (name == "password" || name == "p" || name == "pass") {
			return errors.New("staff add: a password is never an argument; type it at the prompt or pipe it on standard input")
		}
	}
	// Flags may come after the username too.
	var names []string
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(names) != 1 {
		return errors.New("staff add: give exactly one USERNAME")
	}
	username := strings.ToLower(strings.TrimSpace(names[0]))
	if *role != "council" && *role != "gate" {
		return fmt.Errorf("staff add: --role must be council or gate, not %q", *role)
	}
	if !staffUsernameRE.MatchString(username) {
		return fmt.Errorf("staff add: username %q must be 2–32 of a–z, 0–9, '_', '.', '-'", username)
	}
	url := e.getenv("DATABASE_URL")
	if url == "" {
		return errors.New("staff add: DATABASE_URL is not set")
	}
	password, err := readStaffPassword(e)
	if err != nil {
		return err
	}
	if err := checkStaffPassword(password); err != nil {
		return err
	}
	store, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer store.Close()
	// Look first, so a taken name is refused before the slow hash.
	if _, err := store.StaffCredentials(ctx, username); err == nil {
		return fmt.Errorf("staff add: %q already exists; reset its password in the console instead", username)
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	hash, err := passhash.Hash(password, passhash.Default)
	if err != nil {
		return err
	}
	user := os.Getenv("USER")
	acc, err := store.CreateStaff(ctx, username, *role, hash, db.Actor{Kind: "system", UserAgent: "festa staff add " + user})
	if errors.Is(err, db.ErrStaffExists) {
		return fmt.Errorf("staff add: %q already exists; reset its password in the console instead", username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s account %q; sign in at /staff/login\n", acc.Role, acc.Username)
	return nil
}

// checkStaffPassword says what is wrong with a new password, if anything.
func checkStaffPassword(p string) error {
	switch n := utf8.RuneCountInString(p); {
	case p == "":
		return errors.New("staff add: no password given on standard input")
	case n < MinStaffPassword:
		return fmt.Errorf("staff add: the password must be at least %d characters (got %d)", MinStaffPassword, n)
	case len(p) > maxStaffPassword || !utf8.ValidString(p):
		return fmt.Errorf("staff add: the password must be valid text of at most %d bytes", maxStaffPassword)
	}
	return nil
}

// readStaffPassword reads the password: on a terminal, twice at a prompt
// with echo off (stty, so no terminal library is needed); otherwise the
// first line of standard input, without its line ending.
func readStaffPassword(e env) (string, error) {
	in := e.stdin
	if f, ok := in.(*os.File); ok && isTerminal(f) {
		first, err := promptHidden(f, e.stderr, "Password: ")
		if err != nil {
			return "", err
		}
		again, err := promptHidden(f, e.stderr, "Again: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("staff add: the two passwords differ")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("staff add: reading the password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// promptHidden asks on w and reads one line from the terminal f with echo
// off, turning echo back on whatever happens.
func promptHidden(f *os.File, w io.Writer, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("staff add: cannot hide the password on this terminal: %w", err)
	}
	defer stty("echo")
	line, err := bufio.NewReader(f).ReadString('\n')
	fmt.Fprintln(w)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
