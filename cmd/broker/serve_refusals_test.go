package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestServeRefusesBadArgumentsBeforeServing pins that broker serve refuses, as a usage error (exit
// 2) and before it serves anything, an argument after its flags and a --log-format other than text
// or json; neither is ignored, and a serve that would start runs until the deadline instead.
// Guards against: serve.go:runServe parseFlags maxArgs 0 -> 1 (a positional argument accepted)
// Guards against: serve.go:runServe logFormatFor's error ignored (an unknown --log-format served as
// JSON)
func TestServeRefusesBadArgumentsBeforeServing(t *testing.T) {
	addr := freeAddr(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"extra argument", []string{"serve", "--listen", addr, "extra"}, "unexpected argument"},
		{"unknown log format", []string{"serve", "--listen", addr, "--log-format", "xml"}, "--log-format must be text or json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, tc.args)
			if ctx.Err() != nil {
				t.Fatalf("served until the deadline: exit %d, stderr %q", code, errb.String())
			}
			if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tc.want)
			}
			if strings.Contains(errb.String(), "bootstrap admin API key") {
				t.Errorf("the bootstrap secret was shown for a server that never started: %q", errb.String())
			}
		})
	}
}
