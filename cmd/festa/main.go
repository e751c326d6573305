// Command festa is the whole ticket booking system in one binary: `festa
// dev` runs it on a private PostgreSQL with demo data, `festa serve` runs it
// in production against DATABASE_URL. main only wires things together; each
// subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		// One clear line, whatever the error wrapped.
		fmt.Fprintln(os.Stderr, "festa: "+strings.Join(strings.Fields(err.Error()), " "))
		stop()
		os.Exit(1)
	}
}

const usage = `festa — ticket booking for festivals with scarce seats

Usage:
  festa dev       run everything locally: private PostgreSQL under ./.festa, demo data, server
  festa serve     serve against DATABASE_URL (migrates first unless --no-migrate)
  festa stack     nginx in front of two instances on the dev database (needs nginx)
  festa migrate   apply database migrations and exit
  festa demo      load the demo festival (idempotent) and write the demo access codes
  festa keygen    print a fresh ticket-signing key for FESTA_TICKET_KEYS
  festa staff add --role council|gate USERNAME
                  create a staff account (password from a prompt or standard input)
  festa bench spike
                  the opening-minute load test against a running festa (see docs/BENCHMARKS.md)

Run 'festa COMMAND --help' for a command's flags.

Environment:
  DATABASE_URL        PostgreSQL connection string (dev: the private cluster)
  FESTA_ADDR          listen address (default :8080)
  FESTA_TICKET_KEYS   ticket-signing keys, id:hex-seed[,id:hex-seed…]; the first signs
  FESTA_BASE_URL      public URL for links (default http://localhost:8080)
  FESTA_TRUSTED_PROXIES  addresses/CIDRs of reverse proxies whose X-Forwarded-For
                      is believed, comma-separated (default none: the TCP peer)
`

// env is how commands read the environment, so tests can pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader // the process's standard input; tests call subcommands with their own
	stdout io.Writer
	stderr io.Writer
}

func (e env) get(key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: os.Stdin, stdout: stdout, stderr: stderr}
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[1], args[2:]
	var err error
	switch cmd {
	case "dev":
		err = runDev(ctx, e, rest)
	case "serve":
		err = runServe(ctx, e, rest)
	case "stack":
		err = runStack(ctx, e, rest)
	case "migrate":
		err = runMigrate(ctx, e, rest)
	case "demo":
		err = runDemo(ctx, e, rest)
	case "keygen":
		err = runKeygen(e, rest)
	case "staff":
		err = runStaff(ctx, e, rest)
	case "bench":
		err = runBench(ctx, e, rest)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlags returns a FlagSet that prints its usage to stdout on --help and
// returns errors instead of exiting.
func newFlags(e env, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: festa %s [flags]\n\n%s\n", name, summary)
		if hasFlags(fs) {
			fmt.Fprintln(e.stdout, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
