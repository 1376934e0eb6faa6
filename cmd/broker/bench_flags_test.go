package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFlagsErr runs broker bench in process with args and BROKER_API_KEY=k, and returns its
// error. Every call here stops before measuring: at a flag, at the target URL, or at the
// unknown figure "nope" of --only.
func benchFlagsErr(args ...string) error {
	vars := map[string]string{"BROKER_API_KEY": "k"}
	var out, errOut strings.Builder
	e := env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	return runBench(context.Background(), e, args)
}

// TestBenchQuickDoesNotHideABadDuration: a --duration that is not positive is a usage error,
// with --quick too, and --quick with any --duration is one (the synopsis gives one or the
// other): --quick used to replace the duration before it was checked, and silently overrode a
// good one.
func TestBenchQuickDoesNotHideABadDuration(t *testing.T) {
	stop := []string{"--target", "http://127.0.0.1:1", "--stack", "s", "--only", "nope"}
	for _, tc := range []struct{ duration, want string }{
		{"-1s", "--duration must be positive"},
		{"0s", "--duration must be positive"},
		{"2s", "not both"},
	} {
		err := benchFlagsErr(append([]string{"--quick", "--duration", tc.duration}, stop...)...)
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--quick --duration %s: error %v, want the usage error %q",
				tc.duration, err, tc.want)
		}
	}
	// Alone, each reaches the figures (and stops at the unknown one).
	for _, args := range [][]string{{"--quick"}, {"--duration", "2s"}} {
		err := benchFlagsErr(append(args, stop...)...)
		if err == nil || !strings.Contains(err.Error(), "--only") {
			t.Errorf("%v: error %v, want the --only usage error", args, err)
		}
	}
}

// TestBenchTargetErrorsNameTheFlag: a --target URL that cannot be used is refused naming
// --target, the flag given, not BROKER_URL, which the user may never have set; the rule is
// BROKER_URL's (plain http on loopback only, a base URL, no password).
func TestBenchTargetErrorsNameTheFlag(t *testing.T) {
	for _, target := range []string{
		"http://broker.example.com", "ftp://127.0.0.1", "http://127.0.0.1/?q=1",
		"https://u:secret@broker.example.com", " ",
	} {
		err := benchFlagsErr("--target", target, "--stack", "s")
		if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--target") ||
			strings.Contains(err.Error(), "BROKER_URL") || strings.Contains(err.Error(), "secret") {
			t.Errorf("--target %q: error %v, want a usage error naming --target, not BROKER_URL",
				target, err)
		}
	}
}

// TestBenchJSONPathCheckedBeforeMeasuring: a --json file that cannot be written fails the
// bench before it measures anything (no table, an error naming --json), instead of after
// minutes of measuring; a file that can be written is left as it was, and one that did not
// exist is not left behind by the check.
func TestBenchJSONPathCheckedBeforeMeasuring(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a run that got as far as measuring ends at once
	vars := map[string]string{"BROKER_API_KEY": "k"}
	var out, errOut strings.Builder
	e := env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	bad := filepath.Join(t.TempDir(), "no-such-dir", "bench.json")
	args := []string{"--json", bad, "--target", "http://127.0.0.1:1", "--stack", "s"}
	err := runBench(ctx, e, args)
	if err == nil || !strings.Contains(err.Error(), "--json") || out.String() != "" {
		t.Errorf("--json in a missing directory: error %v, table %q; want an error naming --json "+
			"and no table", err, out.String())
	}

	dir := t.TempDir()
	kept := filepath.Join(dir, "kept.json")
	if err := os.WriteFile(kept, []byte("earlier"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkWritable(kept); err != nil {
		t.Fatalf("checkWritable(an existing file) = %v", err)
	}
	if got, _ := os.ReadFile(kept); string(got) != "earlier" {
		t.Errorf("the check changed an existing file to %q", got)
	}
	fresh := filepath.Join(dir, "fresh.json")
	if err := checkWritable(fresh); err != nil {
		t.Fatalf("checkWritable(a new file) = %v", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the check left %s behind: %v", fresh, err)
	}
}
