package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestInputFilesAreBounded: a file the CLI reads as input must be a regular file within its cap,
// or the command fails at once with one line: /dev/zero would be read until memory runs out, and
// a FIFO would wait for a writer.
func TestInputFilesAreBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#"), config.MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	admin := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "brk_x"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"apply a device", []string{"apply", "-f", "/dev/zero"}, "not a regular file"},
		{"apply a FIFO", []string{"apply", "-f", fifo}, "not a regular file"},
		{"apply a file over the cap", []string{"apply", "-f", big}, "more than the 8388608"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), env{stdout: &out, stderr: &errb, getenv: func(k string) string { return admin[k] }}, tc.args)
			if code != exitError || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errb.String(), tc.want)
			}
		})
	}
	s := newTrailServer(t, 3)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a JWKS that is a device", []string{"--jwks", "/dev/zero"}, "not a regular file"},
		{"a state file that is a FIFO", []string{"--state", fifo}, "not a regular file"},
		{"a JWKS over the cap", []string{"--jwks", big}, "more than the 1048576"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := verifyAgainst(s, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verify = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
