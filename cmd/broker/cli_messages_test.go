package main

import (
	"strings"
	"testing"
)

// TestOperationalErrorIsOneLine pins "one clear line on stderr" for an operational
// error (exit 1) whose message holds several lines: a configuration file with several problems is
// reported on one line.
// Guards against: main.go:107 default case prints err.Error() without oneLine
func TestOperationalErrorIsOneLine(t *testing.T) {
	path := writeFile(t, "bad.yaml", "issuer: http://example.com\nlisten: 127.0.0.1:0\nkeys:\n  algoritm: RS256\nstacks:\n  - {id: Bad_Id, space: nowhere}\n")
	r := runCLI(nil, "serve", "--config", path)
	if r.code != exitError {
		t.Fatalf("exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
		t.Errorf("stderr is %d lines, want one: %q", n+1, r.stderr)
	}
	for _, want := range []string{"stacks[0].id", "stacks[0].space"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q: %q", want, r.stderr)
		}
	}
}

// TestShownArgBoundaryAndFlagNames pins how usage errors name what was given: a name-like argument
// of exactly maxShownArg characters is still quoted, one a character longer is not, a one-letter
// flag is written -f (not --f), and an unknown flag whose name looks like a name is repeated,
// however many dashes it was given with.
// Guards against: args.go:77 nameLike len(arg) <= maxShownArg -> <
// Guards against: args.go:64 flagName len(name) == 1 -> == 0
// Guards against: args.go:111 withheldArgs nameLike(strings.TrimLeft(p, "-")) -> nameLike(p)
func TestShownArgBoundaryAndFlagNames(t *testing.T) {
	at := strings.Repeat("a", maxShownArg)
	admin := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "brk_x"}
	cases := []struct {
		name    string
		vars    map[string]string
		args    []string
		want    string
		notWant string
	}{
		{"name of maxShownArg characters", nil, []string{at}, `unknown command "` + at + `"`, ""},
		{"name one character longer", nil, []string{at + "a"}, "of 25 characters (not repeated", at},
		{"one-letter flag", admin, []string{"apply", "-f", ""}, "broker apply: -f was given an empty value", "--f"},
		{"one-letter flag of get", admin, []string{"get", "stacks", "-o", ""}, "broker get: -o was given an empty value", "--o"},
		{"an unknown name-like flag is named", nil, []string{"version", "-verbosely"}, "flag provided but not defined: -verbosely", "not repeated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(tc.vars, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not hold %q", r.stderr, tc.want)
			}
			if tc.notWant != "" && strings.Contains(r.stderr, tc.notWant) {
				t.Errorf("stderr %q holds %q", r.stderr, tc.notWant)
			}
		})
	}
}
