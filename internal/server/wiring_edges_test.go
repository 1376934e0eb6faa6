package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// TestRequestHeadersBoundedAt64KiB: a request whose headers pass 64 KiB is refused with 413 before
// any handler runs (memory a client can hold per connection is bounded); one under it is served.
// Guards against: server.go:256 MaxHeaderBytes: 64 << 10 -> 1 << 20 (or dropped: net/http's 1 MiB
// default)
func TestRequestHeadersBoundedAt64KiB(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"16 KiB", 16 << 10, 200},
		{"200 KiB", 200 << 10, http.StatusRequestEntityTooLarge},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/readyz", nil)
		req.Header.Set("X-Pad", strings.Repeat("a", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s of headers: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

// TestShutdownPastTimeoutCutsHangingClient: a stop asked while a client hangs in the middle of its
// request ends well once http.shutdown_timeout passes: Serve returns nil (no error for the
// operator's own stop) and the hanging connection is closed, not left open until read_timeout.
// Guards against: server.go:301 !errors.Is(err, context.DeadlineExceeded) -> errors.Is(...)
// Guards against: server.go:308 _ = srv.Close() dropped
func TestShutdownPastTimeoutCutsHangingClient(t *testing.T) {
	ts := startServer(t, serverOptions{extraYAML: "\nhttp: {shutdown_timeout: 200ms}\n"})
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Headers promise a body that never comes: the handler waits on it (read_timeout is 30s).
	_, _ = io.WriteString(c, "POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+adminSecret+
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"stack\":")
	time.Sleep(100 * time.Millisecond)

	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }() // ts.stop reports a non-nil Serve error with t.Errorf
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of a 200ms shutdown_timeout")
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("the hanging client's connection is still open after the shutdown timeout")
	}
}

// TestTLSRefusesVersionsBelow12: the TLS listener refuses a client that offers at most TLS 1.1 and
// accepts TLS 1.2 and 1.3.
// Guards against: tls.go:92 MinVersion: tls.VersionTLS12 -> tls.VersionTLS10 (or dropped with
// GODEBUG tls10server=1)
func TestTLSRefusesVersionsBelow12(t *testing.T) {
	certFile, keyFile, cert := writeServingCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pool := serveTLS(t, tlsConfig(t, ln.Addr().String(), certFile, keyFile), ln, cert)
	for _, tc := range []struct {
		name     string
		min, max uint16
		ok       bool
	}{
		{"TLS 1.0", tls.VersionTLS10, tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, true},
	} {
		d := &net.Dialer{Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tc.min, MaxVersion: tc.max})
		if err == nil {
			_ = c.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("%s handshake: err=%v, want accepted=%v", tc.name, err, tc.ok)
		}
	}
}

// TestStartupOnlyNamesEverySetting: a reload whose file changes a setting read only at start-up
// names that setting (in the config.reload event and the warning), one per top-level key, and names
// nothing when only catalog objects change.
// Guards against: reload.go:372-381 any diff(...) line dropped (e.g. diff("tls", ...))
func TestStartupOnlyNamesEverySetting(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *config.Config)
	}{
		{"issuer", func(c *config.Config) { c.Issuer = "https://other.example" }},
		{"listen", func(c *config.Config) { c.Listen = ":9999" }},
		{"tls", func(c *config.Config) { c.TLS = &config.TLS{CertFile: "/x.crt", KeyFile: "/x.key"} }},
		{"store", func(c *config.Config) { c.Store = &config.Store{} }},
		{"keys", func(c *config.Config) { c.Keys.Backend = "file" }},
		{"tokens", func(c *config.Config) { c.Tokens.TTL = time.Minute }},
		{"runs", func(c *config.Config) { c.Runs.TTL = time.Minute }},
		{"http", func(c *config.Config) { c.HTTP.ShutdownTimeout = time.Minute }},
		{"limits", func(c *config.Config) { c.Limits.AuthFailures = 7 }},
		{"audit", func(c *config.Config) { c.Audit.Sinks = []config.AuditSink{{}} }},
		{"", func(c *config.Config) { c.Spaces = []config.Space{{}} }},
	} {
		a, b := &config.Config{}, &config.Config{}
		tc.change(b)
		got := startupOnly(a, b)
		want := []string{tc.name}
		if tc.name == "" {
			want = nil
		}
		if !slices.Equal(got, want) {
			t.Errorf("change of %q: startupOnly = %v, want %v", tc.name, got, want)
		}
	}
}

// TestReadyzStaleKeySet: a replica whose key set has not been refreshed for more than three refresh
// intervals (plus 10s) answers /readyz 503; just under that bound it is ready.
// Guards against: server.go:199 KeysStaleAfter 3*s.keyRefresh -> 30*s.keyRefresh (or dropped)
func TestReadyzStaleKeySet(t *testing.T) {
	start := time.Now()
	var offset atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	const refresh = time.Hour // the ticker never fires during the test: the set is never refreshed
	ts := startServer(t, serverOptions{now: now, keyRefresh: refresh})
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  int
	}{
		{"fresh", 0, 200},
		{"just under the bound", 3*refresh + 10*time.Second - time.Second, 200},
		{"past the bound", 3*refresh + 10*time.Second + time.Second, 503},
	} {
		offset.Store(int64(tc.after))
		if r := get(t, ts.URL+"/readyz", ""); r.status != tc.want {
			t.Errorf("%s: readyz %d %s, want %d", tc.name, r.status, r.body, tc.want)
		}
	}
}

// TestServeRetriesWaitingKeySetEvents: while a replica serves, a key-set event that could not be
// appended (it waits in the recorder's queue) is appended by the replica's own retry loop, without
// another key-set change: the trail does not stay short of a rotation or revocation.
// Guards against: server.go:275 go s.events.retryKeyEvents(bg, s.keyRefresh) dropped
func TestServeRetriesWaitingKeySetEvents(t *testing.T) {
	ts := startServer(t, serverOptions{keyRefresh: 20 * time.Millisecond})
	ctx := context.Background()
	rec := ts.srv.events
	inForce, _, err := ts.srv.state.auditKeySet.LoadKeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const id = "waiting-key-event"
	rec.keyMu.Lock()
	rec.keyWaiting = append(rec.keyWaiting, keyEvent{
		event: audit.Event{ID: id, Actor: "system:keys", Action: "keys.rotate", Space: config.RootSpace, Outcome: audit.Success},
		at:    time.Now(), inForce: inForce,
	})
	rec.keyMu.Unlock()

	deadline := time.Now().Add(3 * time.Second)
	for {
		rec.keyMu.Lock()
		n := len(rec.keyWaiting)
		rec.keyMu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d key-set events still waiting 3s after the trail was writable; the replica never retried", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	events, _, err := ts.srv.state.audit.List(ctx, config.RootSpace, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.ID == id {
			return
		}
	}
	t.Errorf("the trail does not hold the waiting key-set event %s", id)
}
