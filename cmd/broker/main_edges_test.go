package main

import (
	"bytes"
	"context"
	"testing"
)

// TestOneLineSeparatesFoldedLines checks that folding a multi-line error keeps its lines
// apart with "; " rather than running them together.
// Guards against: main.go:oneLine no longer turns newlines into "; "
func TestOneLineSeparatesFoldedLines(t *testing.T) {
	const want = "first problem; second problem;"
	if got := oneLine("first problem\n  second problem\n"); got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

// TestSingleDashHelpIsHelp checks that -help, like -h and --help, asks audit and api-keys
// for their help (exit 0), not a usage error.
// Guards against: main.go:"-help" dropped from isHelp
func TestSingleDashHelpIsHelp(t *testing.T) {
	for _, cmd := range []string{"audit", "api-keys"} {
		var out, errb bytes.Buffer
		e := env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := run(context.Background(), e, []string{cmd, "-help"}); code != exitOK {
			t.Errorf("broker %s -help: exit %d, stderr %q; want 0", cmd, code, errb.String())
		}
	}
}
