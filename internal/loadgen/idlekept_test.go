package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// fakeServeEnv makes this test binary, started as a child server, serve fakeBroker.
const fakeServeEnv = "BROKER_LOADGEN_FAKE_SERVE"

// TestRSSPeakNeedsTheIdleConnectionsHeld checks that rss_peak, the server's memory with 1,000
// idle keep-alive connections open while 64 clients ask for tokens, does not pass for a server
// that drops idle connections at once (here after 50 ms): it held none of them under the load.
func TestRSSPeakNeedsTheIdleConnectionsHeld(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "broker")
	script := "#!/bin/sh\nexec " + exe + " \"$@\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeServeEnv, "1")
	s := binarySuite(t, bin)
	peak := s.fig("rss_peak")
	if err := s.memoryFigures(context.Background()); err != nil {
		peak.Fail(err)
	}
	peak.Judge()
	if peak.Status == StatusPass {
		t.Errorf("rss_peak: pass at %.1f MiB (%s) from a server that held no idle connection",
			peak.Value, peak.Detail)
	}
}

// TestMain runs the tests, or, with fakeServeEnv or spikeServeEnv set, serves as a fake broker
// child server (see fakeServe, spikeServe) instead.
func TestMain(m *testing.M) {
	serve := fakeServe
	if os.Getenv(spikeServeEnv) != "" {
		serve = spikeServe
	}
	if os.Getenv(fakeServeEnv) != "" || os.Getenv(spikeServeEnv) != "" {
		if err := serve(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// fakeListen is the listen address of the configuration args give with --config, once the
// process's test issuer has its key (before the fake server is ready).
func fakeListen(args []string) (string, error) {
	var path string
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			path = args[i+1]
		}
	}
	addr, err := listenOf(path)
	if err != nil {
		return "", err
	}
	if _, err := testIssuers[keys.RS256](); err != nil {
		return "", err
	}
	return addr, nil
}

// fakeServe serves, on the listen address of the configuration args give with --config, the
// broker calls the load program makes, closing every keep-alive connection idle for 50 ms.
func fakeServe(args []string) error {
	addr, err := fakeListen(args)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(fakeBroker),
		IdleTimeout: 50 * time.Millisecond, ReadHeaderTimeout: time.Second}
	return srv.ListenAndServe()
}

// listenOf returns the listen address of the configuration at path.
func listenOf(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "listen: "); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s names no listen address", path)
}

// fakeBroker answers readiness, health, run creation, tokens (fresh ones, signed RS256 by the
// process's test issuer) and the discovery document and JWKS the load program verifies a
// sample of the tokens against.
func fakeBroker(w http.ResponseWriter, r *http.Request) {
	iss, err := testIssuers[keys.RS256]()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	switch r.URL.Path {
	case "/v1/runs":
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"runToken":"run-token"}`))
	case "/v1/token":
		_ = json.NewEncoder(w).Encode(map[string]string{"token": iss.token()})
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]string{"jwks_uri": "http://" + r.Host + "/.well-known/jwks"})
	case "/.well-known/jwks":
		_, _ = w.Write(iss.jwks)
	default:
		_, _ = w.Write([]byte("ok"))
	}
}

// binarySuite is a suite for child servers run from bin, measuring each figure for 300 ms.
func binarySuite(t *testing.T, bin string) *suite {
	t.Helper()
	s := &suite{
		cfg: Config{Binary: bin, Duration: 300 * time.Millisecond, Clients: 4},
		dir: t.TempDir(), signers: map[string]*RawSigner{},
		refs: map[string]*Result{keys.RS256: {}, keys.ES256: {}}, saturated: map[string]saturation{},
	}
	s.report = &Report{Figures: s.plan()}
	return s
}
