package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEmptyFlagValueIsUsageError holds every command to one rule: a flag given with an empty
// value (a variable that expanded to nothing) is a usage error, exit 2 with one line naming the
// flag, and never taken for the flag left out (serve's embedded demo configuration and its
// bootstrap admin key, the live broker instead of trust's file, no --state check...).
func TestEmptyFlagValueIsUsageError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil { // the emulator's state directory must be private
		t.Fatal(err)
	}
	cfg := writeFile(t, "broker.yaml", "issuer: http://127.0.0.1:8080\n")
	worker := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_RUN_TOKEN": "brk_run_x"}
	admin := map[string]string{"BROKER_URL": "http://127.0.0.1:1", "BROKER_API_KEY": "brk_x"}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		flag string // the message names it
	}{
		{"serve --config", nil, []string{"serve", "--config", "", "--listen", "127.0.0.1:0"}, "--config"},
		{"serve --config=", nil, []string{"serve", "--config=", "--listen", "127.0.0.1:0"}, "--config"},
		{"serve -config with BROKER_CONFIG set", map[string]string{"BROKER_CONFIG": cfg}, []string{"serve", "-config", "", "--listen", "127.0.0.1:0"}, "--config"},
		{"serve --log-format", nil, []string{"serve", "--log-format", "", "--listen", "127.0.0.1:0"}, "--log-format"},
		{"serve --listen", nil, []string{"serve", "--listen", ""}, "--listen"},
		{"emulator --config", nil, []string{"emulator", "--config", "", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--state-dir", dir}, "--config"},
		{"emulator --state-dir", nil, []string{"emulator", "--state-dir", "", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"}, "--state-dir"},
		{"emulator --issuer", nil, []string{"emulator", "--issuer", "", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--state-dir", dir}, "--issuer"},
		{"keys generate --alg", nil, []string{"keys", "generate", "--dir", filepath.Join(dir, "keys"), "--alg", ""}, "--alg"},
		{"keys list --config", nil, []string{"keys", "list", "--dir", filepath.Join(dir, "keys"), "--config", ""}, "--config"},
		{"token --audience", worker, []string{"token", "--audience", ""}, "--audience"},
		{"credentials --integration", worker, []string{"credentials", "aws", "--integration", ""}, "--integration"},
		{"trust --config", admin, []string{"trust", "aws", "--config", "", "--stack", "s", "--scope", "read"}, "--config"},
		{"audit verify --state", admin, []string{"audit", "verify", "--state", ""}, "--state"},
		{"audit verify --jwks", admin, []string{"audit", "verify", "--jwks", ""}, "--jwks"},
		{"apply -f", admin, []string{"apply", "-f", ""}, "-f"},
		{"get -o", admin, []string{"get", "stacks", "-o", ""}, "-o"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A command that took the empty value for absent would start serving: the
			// deadline stops it, and its exit is then not 2.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, env{stdout: &out, stderr: &errb, getenv: func(k string) string { return tc.vars[k] }}, tc.args)
			if code != exitUsage {
				t.Fatalf("broker %q: exit %d, want 2; stderr %.300q", tc.args, code, errb.String())
			}
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.flag+" was given an empty value") {
				t.Errorf("broker %q: stderr %q, want one line naming %s", tc.args, msg, tc.flag)
			}
			if strings.Contains(msg, "bootstrap") || out.Len() != 0 {
				t.Errorf("broker %q: printed %q / %q", tc.args, out.String(), msg)
			}
		})
	}
}

// TestRefuseEmptyValuesLeavesAbsentFlagsAlone: a flag left out, or given a value, is never the
// empty-value error; only a given, empty one is.
func TestRefuseEmptyValuesLeavesAbsentFlagsAlone(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"left out", nil, false},
		{"given a value", []string{"--config", "x.yaml"}, false},
		{"bool flag", []string{"--v"}, false},
		{"given empty", []string{"--config", ""}, true},
		{"given empty after a value", []string{"--config", "x", "--config", ""}, true},
		{"one-letter flag given empty", []string{"-f="}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFlags("test", env{stderr: new(bytes.Buffer)})
			fs.String("config", "", "")
			fs.String("f", "", "")
			fs.Bool("v", false, "")
			err := parseFlags(fs, tc.args, 0)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseFlags(%q) = %v, want error %v", tc.args, err, tc.wantErr)
			}
			if err != nil {
				if !errors.As(err, new(usageError)) {
					t.Fatalf("parseFlags(%q) = %v, not a usage error", tc.args, err)
				}
			}
		})
	}
}
