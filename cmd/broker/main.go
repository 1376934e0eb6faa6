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

	"github.com/brokerhq/broker/internal/textcut"
)

// Exit codes of the contract.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// env is the process environment a command sees, injected for tests.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", runServe},
		{"keys", "manage a key set (a directory, or the backend of --config): generate, list, rotate, revoke", runKeys},
		{"token", "print an ID token for the current run (worker side)", runToken},
		{"credentials", "exchange the run's token for cloud or Vault credentials (worker side)", runCredentials},
		{"trust", "print the trust configuration a cloud or Vault needs for a stack and scope", runTrust},
		{"apply", "make a live broker hold a file's spaces, stacks, integrations, attachments and roles (BROKER_URL, BROKER_API_KEY)", runApply},
		{"get", "list a live broker's objects of one kind, or show one (BROKER_URL, BROKER_API_KEY)", runGet},
		{"delete", "delete one object from a live broker (BROKER_URL, BROKER_API_KEY)", runDelete},
		{"api-keys", "create an API key on a live broker and print its secret once (BROKER_URL, BROKER_API_KEY)", runAPIKeys},
		{"audit", "verify the tamper-evident audit chain (control plane: BROKER_URL, BROKER_API_KEY)", runAudit},
		{"bench", "measure the performance targets against references taken in the same run (starts its own servers, or --target)", runBench},
		{"emulator", "serve strict AWS, Google, Entra and Vault emulators trusting this broker, to try it without a cloud", runEmulator},
		{"version", "print the version", runVersion},
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString("usage: broker <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	return b.String()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "broker: missing command; run broker help for the list of commands")
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if args[0] == "help" && len(args) > 2 {
			fmt.Fprintf(e.stderr, "broker help: unexpected argument %s\n", shownArg(args[2]))
			return exitUsage
		}
		if args[0] == "help" && len(args) == 2 {
			// broker help CMD is CMD's own help, as broker CMD --help.
			return run(ctx, e, []string{args[1], "--help"})
		}
		fmt.Fprint(e.stderr, usage())
		return exitOK
	}
	if len(args) == 2 && args[1] == "help" {
		// broker CMD help is CMD's own help too: no command takes "help" as an argument.
		args = []string{args[0], "--help"}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, new(usageError)):
			fmt.Fprintf(e.stderr, "broker %s: %v\n", c.name, oneLine(err.Error()))
			return exitUsage
		default:
			fmt.Fprintf(e.stderr, "broker %s: %v\n", c.name, oneLine(err.Error()))
			return exitError
		}
	}
	fmt.Fprintf(e.stderr, "broker: unknown command %s (run broker --help)\n", shownArg(args[0]))
	return exitUsage
}

// newFlags returns a flag set that reports errors as usage errors instead of exiting, and whose
// -h/--help prints "usage: broker NAME [flags]" and every flag to stderr.
func newFlags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet("broker "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	setSynopsis(fs, fs.Name()+" [flags]")
	return fs
}

// setSynopsis makes fs's help print "usage: SYNOPSIS" followed by every flag.
func setSynopsis(fs *flag.FlagSet, synopsis string) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		any := false
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprint(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
}

// isHelp reports whether arg asks for a command's help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// parseFlags parses args and refuses positional arguments beyond maxArgs and flags given an
// empty value (refuseEmptyValues). Asked for help, it prints fs's usage and returns
// flag.ErrHelp (exit 0).
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) error {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fs.Usage()
			return err
		}
		return usagef("%s", withheldArgs(err.Error(), args))
	}
	if fs.NArg() > maxArgs {
		return usagef("unexpected argument %s", shownArg(fs.Arg(maxArgs)))
	}
	return refuseEmptyValues(fs)
}

// parseProvider parses args, whose one positional argument is the provider, written before,
// between or after the flags (broker credentials aws --format json, or --format json aws).
func parseProvider(fs *flag.FlagSet, args []string, synopsis string) (string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, args, len(args)); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch len(positional) {
	case 0:
		return "", usagef("missing provider: %s", synopsis)
	case 1:
		return positional[0], nil
	}
	return "", usagef("unexpected argument %s", shownArg(positional[1]))
}

// oneLine folds a multi-line error into one line for stderr, its lines joined by "; " and its
// control characters shown as U+FFFD (see textcut.OneLine): a message may pass on a broker's
// or an upstream's words, which must not rewrite the terminal or the log that shows it.
func oneLine(s string) string {
	return textcut.OneLine(strings.ReplaceAll(s, "\n", "; "))
}
