package main

import (
	"strings"
	"testing"
)

// TestEveryCommandPrintsItsHelp requires -h and --help of every command to print its usage
// and its flags and to exit 0: a help that prints nothing leaves the caller guessing.
func TestEveryCommandPrintsItsHelp(t *testing.T) {
	// flag is one flag each command's help must list ("" when it has none).
	flagOf := map[string]string{
		"serve": "-listen", "keys": "-dir", "token": "-audience", "credentials": "-integration",
		"trust": "-stack", "apply": "-dry-run", "get": "-o", "delete": "", "api-keys": "-bind",
		"audit": "-space", "emulator": "-tls-listen", "version": "", "bench": "-no-fail",
	}
	for _, c := range commands() {
		want, ok := flagOf[c.name]
		if !ok {
			t.Errorf("command %q has no help case in this table", c.name)
			continue
		}
		for _, h := range []string{"-h", "--help"} {
			t.Run(c.name+" "+h, func(t *testing.T) {
				r := broker(t, []string{"BROKER_URL=", "BROKER_API_KEY=", "BROKER_RUN_TOKEN=", "BROKER_CONFIG="}, c.name, h)
				if r.code != 0 {
					t.Fatalf("exit %d, want 0; stderr %q", r.code, r.stderr)
				}
				out := r.stdout + r.stderr
				if !strings.Contains(out, "usage:") || !strings.Contains(out, "broker "+c.name) {
					t.Errorf("no usage line naming broker %s: %q", c.name, out)
				}
				if want != "" && !strings.Contains(out, "  "+want+" ") && !strings.Contains(out, "  "+want+"\n") {
					t.Errorf("help does not list the flag %s: %q", want, out)
				}
			})
		}
	}
}
