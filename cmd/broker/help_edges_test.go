package main

import (
	"strings"
	"testing"
)

// TestTopLevelHelpListsEveryCommand checks that broker -h, --help and help alone exit 0
// and print, on stderr and not on stdout, the usage line followed by every command with its
// summary.
// Guards against: main.go:top-level help returns exitUsage instead of exitOK
// Guards against: main.go:top-level help printed on stdout
// Guards against: main.go:usage no longer lists the commands
func TestTopLevelHelpListsEveryCommand(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "help"} {
		r := runCLI(nil, arg)
		if r.code != exitOK {
			t.Errorf("broker %s: exit %d, want 0; stderr %q", arg, r.code, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("broker %s wrote its help on stdout: %q", arg, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, "usage: broker <command>") {
			t.Errorf("broker %s: stderr does not start with the usage line: %q", arg, r.stderr)
		}
		for _, c := range commands() {
			listed := strings.Contains(r.stderr, "  "+c.name+" ")
			if !listed || !strings.Contains(r.stderr, c.summary) {
				t.Errorf("broker %s does not list %s with its summary: %q", arg, c.name, r.stderr)
			}
		}
	}
}

// TestCommandHelpGoesToTheCallersStderr checks that a command's help is written to the
// stderr its caller gave it, as the usage line followed by a flags section listing each flag.
// Guards against: main.go:newFlags output set to os.Stderr instead of the env's stderr
// Guards against: main.go:setSynopsis flags section left out
func TestCommandHelpGoesToTheCallersStderr(t *testing.T) {
	r := runCLI(nil, "token", "--help")
	if r.code != exitOK {
		t.Fatalf("broker token --help: exit %d, want 0; stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "usage: broker token [flags]\n") {
		t.Errorf("the help does not start with its usage line: %q", r.stderr)
	}
	_, flags, ok := strings.Cut(r.stderr, "\nflags:\n")
	if !ok || !strings.Contains(flags, "  -audience") || !strings.Contains(flags, "  -format") {
		t.Errorf("the help has no flags section listing -audience and -format: %q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("the help was written on stdout: %q", r.stdout)
	}
}

// TestCommandHelpTakesNoFurtherArguments checks that "broker CMD help" is CMD's help only
// as the whole command line: followed by another argument it is a usage error (exit 2) naming
// the unexpected "help", not a help that ignores the rest.
// Guards against: main.go:"broker CMD help" rewritten to --help whatever follows it
func TestCommandHelpTakesNoFurtherArguments(t *testing.T) {
	r := runCLI(nil, "version", "help", "extra")
	if r.code != exitUsage {
		t.Fatalf("broker version help extra: exit %d, want 2; stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `unexpected argument "help"`) {
		t.Errorf("the usage error does not name the unexpected argument: %q", r.stderr)
	}
}
