package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestAuditSinkPendingCountsCheckpoints: a checkpoint the checkpointer appends counts as pending
// for every sink at once, as an event a request appends does, while the sink's delivery hangs;
// it is not left uncounted until that delivery ends.
func TestAuditSinkPendingCountsCheckpoints(t *testing.T) {
	recv := newReceiver(t, []byte(sinkSecret))
	recv.up(recvSlow)
	yaml := fmt.Sprintf("audit:\n  checkpoint: {every: 2, interval: 1h}\n  sinks:\n    - name: siem\n      webhook: {url: %q, secret_file: %q, timeout: 5m}\n",
		recv.URL(), writeSecretFile(t, sinkSecret+"\n"))
	ts := startServer(t, serverOptions{extraYAML: yaml})
	waitFor(t, "the first delivery to hang", func() bool { return recv.holdingNow() > 0 })
	mintOne(t, ts)
	isCheckpoint := func(e audit.Event) bool { return e.Action == audit.CheckpointAction }
	waitFor(t, "a checkpoint in the chain", func() bool { return slices.ContainsFunc(ts.chain(t), isCheckpoint) })
	waitFor(t, "pending to count every event of the chain, checkpoints included", func() bool {
		return pendingMetric(t, ts, "siem") == int64(len(ts.chain(t)))
	})
	recv.setMode(recvOK)
}
