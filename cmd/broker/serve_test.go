package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeListenIsValidated requires that --listen is validated with the configuration it
// changes: on the embedded default the issuer follows it, and a non-loopback address would
// make that an http issuer reachable from the network, which no configuration file may hold.
func TestServeListenIsValidated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.yaml")
	if err := os.WriteFile(path, []byte("issuer: https://broker.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"embedded default on all interfaces", []string{"BROKER_CONFIG="}, []string{"serve", "--listen", "0.0.0.0:8080"},
			[]string{`--listen "0.0.0.0:8080"`, `issuer: "http://0.0.0.0:8080" must use https`, "loopback"}},
		{"embedded default on a public address", []string{"BROKER_CONFIG="}, []string{"serve", "--listen", "192.0.2.1:8080"},
			[]string{`"http://192.0.2.1:8080" must use https`}},
		{"file, listen not host:port", nil, []string{"serve", "--config", path, "--listen", "8080"},
			[]string{`--listen "8080"`, "listen: ", "not host:port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := broker(t, tc.env, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, exitUsage, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "brk_") {
				t.Errorf("the bootstrap secret was shown for a server that never started: %q", r.stderr)
			}
		})
	}
}

// TestServeListenNamesTheEmulatorCommand requires broker serve --listen on the embedded default,
// which moves the issuer but not the demo integrations' endpoints, to say how to start the
// emulator so it trusts the moved issuer.
func TestServeListenNamesTheEmulatorCommand(t *testing.T) {
	addr := freeAddr(t)
	logs := startProcess(t, []string{"BROKER_CONFIG="}, "serve", "--listen", addr)
	waitReady(t, "http://"+addr)
	if want := "broker emulator --issuer http://" + addr + "\n"; !strings.Contains(logs.String(), want) {
		t.Errorf("stderr does not name %q: %s", want, logs.String())
	}
}
