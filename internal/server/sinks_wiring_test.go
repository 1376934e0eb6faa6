package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// sinkConfigOf parses an issuer line followed by the audit block sinks.
func sinkConfigOf(t *testing.T, sinks string) *config.Config {
	t.Helper()
	src := "issuer: http://127.0.0.1:9\naudit:\n  sinks:\n" + sinks
	cfg, err := config.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// TestAuditSinkTargetsFollowTheFile: every sink of audit.sinks is delivered to under its
// name, with the max_batch the file gives it, in the file's order.
// Guards against: Target MaxBatch dropped (default batch used)
// Guards against: Target Name not taken from the sink's name
func TestAuditSinkTargetsFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	cfg := sinkConfigOf(t, fmt.Sprintf(
		"    - {name: archive, max_batch: 7, file: {path: %q}}\n"+
			"    - {name: siem, max_batch: 3, webhook: {url: %q, secret_file: %q}}\n",
		filepath.Join(dir, "trail.jsonl"), "https://siem.example.com/in",
		writeSecretFile(t, sinkSecret)))
	fw, err := newAuditSinks(cfg, audit.NewMemory(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newAuditSinks: %v", err)
	}
	stats := fw.Stats()
	want := []struct {
		name  string
		batch int
	}{{"archive", 7}, {"siem", 3}}
	if len(stats) != len(want) {
		t.Fatalf("%d targets, want %d: %+v", len(stats), len(want), stats)
	}
	for i, w := range want {
		if stats[i].Name != w.name || stats[i].MaxBatch != w.batch {
			t.Errorf("target %d: name %q max_batch %d, want %q %d", i, stats[i].Name,
				stats[i].MaxBatch, w.name, w.batch)
		}
	}
}

// TestAuditSinkErrorsNameTheSink: a sink that cannot be opened refuses the start with an
// error naming its own place in audit.sinks and the key at fault: a file sink whose path
// cannot be created, a webhook whose secret file is missing, whichever sink it is.
// Guards against: file sink open error ignored (nil sink kept)
// Guards against: error path always names audit.sinks[0]
func TestAuditSinkErrorsNameTheSink(t *testing.T) {
	dir := t.TempDir()
	good := fmt.Sprintf("    - {name: archive, file: {path: %q}}\n", filepath.Join(dir, "ok.jsonl"))
	for _, tc := range []struct {
		name, sinks, want string
	}{
		{"file path in a missing directory", fmt.Sprintf("    - {name: a, file: {path: %q}}\n",
			filepath.Join(dir, "none", "trail.jsonl")), "audit.sinks[0].file.path: "},
		{"second sink's file path", good + fmt.Sprintf("    - {name: b, file: {path: %q}}\n",
			filepath.Join(dir, "none", "b.jsonl")), "audit.sinks[1].file.path: "},
		{"second sink's secret file", good + fmt.Sprintf(
			"    - {name: b, webhook: {url: %q, secret_file: %q}}\n",
			"https://siem.example.com/in", filepath.Join(dir, "missing")),
			"audit.sinks[1].webhook.secret_file: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sinkConfigOf(t, tc.sinks)
			_, err := newAuditSinks(cfg, audit.NewMemory(), slog.New(slog.DiscardHandler))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("newAuditSinks = %v, want an error beginning %q", err, tc.want)
			}
		})
	}
}

// countingHook is a webhook receiver on loopback that counts the requests it gets and answers
// each as answer says.
type countingHook struct {
	srv   *httptest.Server
	calls atomic.Int64
}

// newCountingHook starts a countingHook; answer handles every request after it is counted.
func newCountingHook(t *testing.T, answer http.HandlerFunc) *countingHook {
	h := &countingHook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		answer(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// waitHookCalls waits, at most 15 seconds, for the hook to have been called n times.
func waitHookCalls(t *testing.T, h *countingHook, n int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for h.calls.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the sink called the receiver %d times in 15s, want at least %d",
				h.calls.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oneWebhookSinkYAML is an audit block with one webhook sink named siem, without a secret.
func oneWebhookSinkYAML(url, timeout, maxBackoff string) string {
	return fmt.Sprintf("audit:\n  sinks:\n    - name: siem\n"+
		"      webhook: {url: %q, timeout: %s}\n      max_backoff: %s\n", url, timeout, maxBackoff)
}

// TestWebhookSinkTimeoutBoundsADelivery: a webhook sink's timeout bounds each delivery:
// a receiver that never answers is given up on after that timeout (not the 10s default) and
// the delivery is tried again.
// Guards against: webhook timeout of the file dropped (default 10s used)
func TestWebhookSinkTimeoutBoundsADelivery(t *testing.T) {
	stop := make(chan struct{})
	hook := newCountingHook(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // hangs until the sink gives up (or the test ends)
		case <-r.Context().Done():
		case <-stop:
		}
	})
	t.Cleanup(func() { close(stop) }) // before the hook's Close
	yaml := oneWebhookSinkYAML(hook.srv.URL+"/in", "200ms", "50ms")
	ts := startServer(t, serverOptions{extraYAML: yaml})
	mintOne(t, ts)
	waitHookCalls(t, hook, 3)
}

// TestWebhookSinkMaxBackoffCapsRetries: a failing webhook sink waits at most its
// max_backoff between attempts, not the 30s default.
// Guards against: MaxBackoff of the file dropped (default 30s used)
func TestWebhookSinkMaxBackoffCapsRetries(t *testing.T) {
	hook := newCountingHook(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	yaml := oneWebhookSinkYAML(hook.srv.URL+"/in", "5s", "50ms")
	ts := startServer(t, serverOptions{extraYAML: yaml})
	mintOne(t, ts)
	waitHookCalls(t, hook, 15)
}
