package main

import (
	"regexp"
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
		for _, args := range [][]string{{c.name, "-h"}, {c.name, "--help"}, {"help", c.name}, {c.name, "help"}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				r := broker(t, []string{"BROKER_URL=", "BROKER_API_KEY=", "BROKER_RUN_TOKEN=", "BROKER_CONFIG="}, args...)
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
				checkSynopsisNamesFlags(t, out)
			})
		}
	}
}

// listedFlag matches a flag line of a flag set's defaults ("  -name" or "  -name type").
var listedFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// checkSynopsisNamesFlags requires a usage that spells out its flags, rather than saying
// [flags], to name every flag the help lists: a synopsis that leaves one out hides it. The
// usage is the help's first paragraph.
func checkSynopsisNamesFlags(t *testing.T, help string) {
	t.Helper()
	synopsis, _, _ := strings.Cut(help, "\n\n")
	if strings.Contains(synopsis, "[flags]") {
		return
	}
	for _, m := range listedFlag.FindAllStringSubmatch(help, -1) {
		named := regexp.MustCompile(`(^|[\s\[(|])--?` + regexp.QuoteMeta(m[1]) + `\b`)
		if !named.MatchString(synopsis) {
			t.Errorf("usage %q does not name the flag -%s its help lists", synopsis, m[1])
		}
	}
}

// TestHelpOfUnknownOrExtra requires broker help to refuse what names no one command.
func TestHelpOfUnknownOrExtra(t *testing.T) {
	for _, args := range [][]string{{"help", "nosuch"}, {"help", "serve", "extra"}} {
		r := broker(t, nil, args...)
		if r.code != exitUsage {
			t.Errorf("broker %s: exit %d, want %d; stderr %q", strings.Join(args, " "), r.code, exitUsage, r.stderr)
		}
	}
}
