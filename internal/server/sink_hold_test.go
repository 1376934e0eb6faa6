package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestAuditSinkPastMemoryRetainSecondSinkDown: on the memory store the events are held for
// the sink furthest behind, whichever its place in audit.sinks: with the first sink up and the
// second down for longer than audit.memory.retain events, the second still receives every event
// of the chain once it is back.
func TestAuditSinkPastMemoryRetainSecondSinkDown(t *testing.T) {
	upRecv := newReceiver(t, []byte(sinkSecret))
	upRecv.up(recvOK)
	downRecv := newReceiver(t, []byte(sinkSecret)) // down
	secret := writeSecretFile(t, sinkSecret)
	yaml := fmt.Sprintf("audit:\n  memory: {retain: 8}\n  sinks:\n"+
		"    - name: first\n      webhook: {url: %q, secret_file: %q, timeout: 30s}\n      max_backoff: 50ms\n"+
		"    - name: second\n      webhook: {url: %q, secret_file: %q, timeout: 30s}\n      max_backoff: 50ms\n",
		upRecv.URL(), secret, downRecv.URL(), secret)
	ts := startServer(t, serverOptions{extraYAML: yaml})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 40 {
		ts.mint(t, run.RunToken, "aud")
	}
	waitFor(t, "the first sink to catch up", func() bool { return pendingMetric(t, ts, "first") == 0 })
	time.Sleep(300 * time.Millisecond) // the second sink's retries meet the store's trims
	downRecv.up(recvOK)
	waitFor(t, "pending 0 on the second sink", func() bool { return pendingMetric(t, ts, "second") == 0 })
	if got, count := receivedOfChain(t, ts, downRecv); got != count || count < 41 {
		t.Errorf("the second sink received %d distinct events of the %d in the chain", got, count)
	}
}

// TestMemoryBackToRetainOnceSinksCaughtUp: the memory store holds events for the sinks
// named in audit.sinks; once they have received everything it goes back to audit.memory.retain
// (and its slack), rather than holding the whole sink_backlog.
func TestMemoryBackToRetainOnceSinksCaughtUp(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret))
	recv.up(recvOK)
	yaml := strings.Replace(webhookSinkYAML(recv.URL(), writeSecretFile(t, sinkSecret), ""), "audit:\n", "audit:\n  memory: {retain: 8}\n", 1)
	ts := startServer(t, serverOptions{extraYAML: yaml})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for range 40 {
		ts.mint(t, run.RunToken, "aud")
	}
	waitFor(t, "pending 0", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	for range 10 { // appends past the retention's slack trim to what the caught-up sink needs
		ts.mint(t, run.RunToken, "aud")
	}
	waitFor(t, "pending 0 again", func() bool { return pendingMetric(t, ts, "siem") == 0 })
	ts.mint(t, run.RunToken, "aud")
	held, _, err := ts.srv.state.audit.(audit.Reader).Range(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) > 20 {
		t.Errorf("the memory store holds %d events with the only sink caught up, want about the retention of 8", len(held))
	}
}
