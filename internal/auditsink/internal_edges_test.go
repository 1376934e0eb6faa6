package auditsink

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestBackoffIsJittered: the wait after a failure varies from one call to the next (its
// upper half is random), so that replicas and sinks do not retry in step.
// Guards against: worker.go:backoff returns d, no jitter
func TestBackoffIsJittered(t *testing.T) {
	for _, limit := range []time.Duration{time.Minute, 10 * time.Millisecond} {
		seen := map[time.Duration]bool{}
		for range 100 {
			seen[backoff(3, limit)] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(3, %s) gave the same wait 100 times: no jitter", limit)
		}
	}
}

// TestStoppedDeliveryReportsAFailedWrite: a delivery stopped mid-write that waits out the
// write reports the write's own outcome: a write that fails within the grace is a failed
// delivery (the events are not in the file, so the cursor must not move past them).
// Guards against: file.go:Deliver grace `case err := <-done: return err` -> `return nil`
func TestStoppedDeliveryReportsAFailedWrite(t *testing.T) {
	f, err := NewFile(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	opened, release := make(chan struct{}, 1), make(chan struct{})
	f.open = func(string) (*os.File, error) {
		opened <- struct{}{}
		<-release
		return nil, errors.New("disk gone")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Deliver(ctx, []audit.Event{{ID: "1"}}) }()
	<-opened
	cancel()
	close(release)
	if err := <-errc; err == nil {
		t.Fatal("a delivery stopped mid-write, whose write then failed, reported success")
	}
}

// TestTornLineAfterAChunkBoundaryNewline: the torn-line repair keeps the last whole line
// when its newline is the very first byte of the chunk read back from the end; only the torn
// tail after it is cut.
// Guards against: file.go:cutTornLine `i >= 0` -> `i > 0` (a newline at a chunk's start is missed)
func TestTornLineAfterAChunkBoundaryNewline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	whole := `{"id":"0","detail":"` + strings.Repeat("w", 5000) + `"}` + "\n"
	torn := strings.Repeat("x", 4095) // the newline ending whole is 4096 bytes from the end
	if err := os.WriteFile(path, []byte(whole+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Deliver(ctx, []audit.Event{{ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	kept := strings.HasPrefix(string(data), whole+`{"id":"1"`)
	if !kept || strings.Count(string(data), "\n") != 2 {
		t.Errorf("file of %d bytes, want the whole first line kept and the torn tail cut",
			len(data))
	}
}
