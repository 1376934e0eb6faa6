package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

const sinkSecret = "0123456789abcdef-webhook-secret"

// webhookSinkYAML is an audit block with one webhook sink named siem.
func webhookSinkYAML(url, secretFile, extra string) string {
	return fmt.Sprintf("audit:\n  sinks:\n    - name: siem\n      webhook: {url: %q, secret_file: %q, timeout: 30s}\n      max_backoff: 50ms\n%s",
		url, secretFile, extra)
}

// mintOne creates a run and mints a token in it: a few events, and proof that neither waited.
func mintOne(t *testing.T, ts *testServer) {
	t.Helper()
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, "aud"); code != 200 {
		t.Fatalf("mint: status %d", code)
	}
}

// The receiver is down, then slow, then answers 500, then recovers: it ends up with every event
// of the chain, in chain order, each request signed; tokens minted while it hangs do not wait.
func TestAuditWebhookSinkSurvivesAFailingReceiver(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret))
	ts := startServer(t, serverOptions{extraYAML: webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret+"\n"), "")})

	// Down: every connection is reset.
	for range 3 {
		mintOne(t, ts)
	}
	// Slow: every request hangs until released; tokens are minted meanwhile.
	recv.up(recvSlow)
	waitFor(t, "a delivery to hang", func() bool { return recv.holdingNow() > 0 })
	for range 3 {
		mintOne(t, ts)
	}
	if recv.holdingNow() == 0 {
		t.Fatal("the receiver let go before the tokens were minted: the test proves nothing")
	}
	// 500: the held request and the next ones fail.
	recv.setMode(recv500)
	waitFor(t, "three 500 answers", func() bool { return recv.answered(500) >= 3 })
	mintOne(t, ts)
	if got, _ := recv.received(); len(got) != 0 {
		t.Fatalf("receiver accepted %d events while answering 500", len(got))
	}
	// Recovered.
	recv.setMode(recvOK)
	mintOne(t, ts)
	want := ts.chain(t)
	waitFor(t, "every event of the chain", func() bool { got, _ := recv.received(); return hasChain(got, want) })

	got, _ := recv.received()
	if err := audit.Verify(got); err != nil {
		t.Errorf("received events do not form the chain: %v", err)
	}
	if got[0].Prev != "" {
		t.Errorf("first received event has prev %q: the start of the chain is missing", got[0].Prev)
	}
	if p := recv.problems(); len(p) > 0 {
		t.Errorf("bad requests: %v", p)
	}
	waitFor(t, "pending to reach 0", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	if strings.Contains(ts.Logs.String(), sinkSecret) || strings.Contains(ts.Logs.String(), "/hook/in") {
		t.Error("the webhook's secret or URL reached the logs")
	}
	if !strings.Contains(ts.Logs.String(), "audit sink: delivery failed") {
		t.Error("failed deliveries were not logged")
	}
}

// With the receiver down and many events, the sink holds at most one batch in memory and the
// metric counts every event not delivered; once the receiver is back, it gets them all.
func TestAuditSinkPendingBounded(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret))
	ts := startServer(t, serverOptions{extraYAML: webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), "      max_batch: 4\n")})
	for range 20 {
		mintOne(t, ts)
	}
	n := int64(len(ts.chain(t)))
	if n < 40 {
		t.Fatalf("only %d events", n)
	}
	// Nothing was delivered: every event of the chain is pending.
	waitFor(t, "the metric to count the pending events", func() bool { return pendingMetric(t, ts, "siem") == int64(len(ts.chain(t))) })
	st := ts.srv.sinks.Stats()
	if len(st) != 1 || st[0].Name != "siem" || st[0].MaxBatch != 4 {
		t.Fatalf("stats %+v", st)
	}
	if st[0].MaxHeld == 0 || st[0].MaxHeld > 4 {
		t.Errorf("the sink held up to %d events in memory, want 1 to max_batch 4", st[0].MaxHeld)
	}
	recv.up(recvOK)
	want := ts.chain(t)
	waitFor(t, "every event", func() bool { got, _ := recv.received(); return hasChain(got, want) })
	if st := ts.srv.sinks.Stats(); st[0].MaxHeld > 4 {
		t.Errorf("the sink held %d events in memory, more than max_batch 4", st[0].MaxHeld)
	}
	waitFor(t, "pending to reach 0", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	if _, dups := recv.received(); dups != 0 {
		t.Errorf("%d duplicates without any failed answer", dups)
	}
}

// A webhook's secret_file is read at start-up with the rules of every secret file; the
// problems name the key and the file, never the content.
func TestAuditWebhookSecretFileChecks(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte(sinkSecret), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"missing", filepath.Join(dir, "none"), "no such file"},
		{"readable by others", loose, "has mode 0644; it must be 0600"},
		{"too short", writeSecretFile(t, "short-secret\n"), "holds 12 bytes; a webhook secret needs at least 16"},
		{"a directory", dir, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "issuer: http://127.0.0.1:9\n" + webhookSinkYAML("https://siem.example.com/in", tc.file, "")
			cfg, err := config.Parse("t.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.HasPrefix(err.Error(), "audit.sinks[0].webhook.secret_file: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New() = %v, want audit.sinks[0].webhook.secret_file: ... %s", err, tc.want)
			}
			if strings.Contains(err.Error(), sinkSecret) || strings.Contains(err.Error(), "short-secret") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}

// TestGracefulStopDeliversTheChainToSinks: a replica told to stop delivers to its sinks the
// events recorded before, also those a slow receiver had not been sent yet; with the memory
// store they would otherwise be lost with the process.
func TestGracefulStopDeliversTheChainToSinks(t *testing.T) {
	var mu sync.Mutex
	got := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Events []audit.Event }
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		for _, e := range body.Events {
			got[e.ID] = true
		}
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // slow: events queue up behind each delivery
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf("audit:\n  sinks:\n    - name: siem\n      webhook: {url: %q}\n", recv.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 3 {
		if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
			t.Fatalf("mint: %d", code)
		}
	}
	ts.stop()
	mu.Lock()
	defer mu.Unlock()
	for _, e := range ts.chain(t) {
		if !got[e.ID] {
			t.Errorf("stopped without delivering event %s (%s) to the sink", e.ID, e.Action)
		}
	}
}

// TestAuditSinkPastMemoryRetain: on the memory store, a sink down for longer than
// audit.memory.retain events still receives every one once it is back, within
// audit.memory.sink_backlog, and nothing is logged lost.
func TestAuditSinkPastMemoryRetain(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret)) // down
	yaml := strings.Replace(webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), ""), "audit:\n", "audit:\n  memory: {retain: 8}\n", 1)
	ts := startServer(t, serverOptions{extraYAML: yaml})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 40 {
		ts.mint(t, run.RunToken, "aud")
	}
	time.Sleep(300 * time.Millisecond) // retries meet the store's trims
	recv.up(recvOK)
	waitFor(t, "pending 0", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	if got, count := receivedOfChain(t, ts, recv); got != count || count < 41 {
		t.Errorf("the sink received %d distinct events of the %d in the chain", got, count)
	}
	if strings.Contains(ts.Logs.String(), "dropped from the in-memory chain") {
		t.Error("a loss was logged within the sink backlog")
	}
}

// TestAuditSinkPastMemoryBacklog: on the memory store, a sink down for longer than
// audit.memory.sink_backlog events loses what the store dropped: its pending count is never
// more than what the store still holds, each loss is logged once (the lost counts logged add up
// to the events it never received), and once it is back the events still held arrive.
func TestAuditSinkPastMemoryBacklog(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret)) // down
	yaml := strings.Replace(webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), ""), "audit:\n", "audit:\n  memory: {retain: 8, sink_backlog: 12}\n", 1)
	ts := startServer(t, serverOptions{extraYAML: yaml})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 40 {
		ts.mint(t, run.RunToken, "aud")
	}
	held, _, err := ts.srv.state.audit.(audit.Reader).Range(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // retries meet the store's drop
	if pending := pendingMetric(t, ts, "siem"); pending > int64(len(held)) {
		t.Errorf("pending metric %d, but only %d events are held and can still reach the sink", pending, len(held))
	}

	recv.up(recvOK)
	waitFor(t, "pending 0", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	got, _ := recv.received()
	head := chainHead(t, ts)
	var logged int64
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if !strings.Contains(line, "dropped from the in-memory chain") {
			continue
		}
		var rec struct{ Lost int64 }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		logged += rec.Lost
	}
	if lost := head.Count - int64(len(got)); lost <= 0 || logged != lost {
		t.Errorf("the sink received %d of %d events; the log names %d lost, want %d (each loss once)", len(got), head.Count, logged, lost)
	}
}
