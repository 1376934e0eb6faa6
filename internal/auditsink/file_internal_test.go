package auditsink

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// A file system that hangs (a hard NFS mount) holds the write, not the delivery: Deliver returns
// at its deadline, the next delivery waits for the hung write within its own deadline instead of
// writing beside it, and once the file system answers, deliveries go on.
func TestFileDeliveryKeepsItsDeadline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	opened := make(chan struct{}, 4)
	f.open = func(p string) (*os.File, error) {
		opened <- struct{}{}
		<-release
		return openAppend(p)
	}
	deliver := func(id string, deadline time.Duration) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		start := time.Now()
		err := f.Deliver(ctx, []audit.Event{{ID: id}})
		return time.Since(start), err
	}
	for _, id := range []string{"1", "2"} {
		took, err := deliver(id, 200*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("delivery %s on a hung file system: %v, want a deadline error", id, err)
		}
		if took > 2*time.Second {
			t.Fatalf("delivery %s took %s past its 200ms deadline", id, took)
		}
	}
	if n := len(opened); n != 1 {
		t.Fatalf("%d writes started while the first hung, want only the first", n)
	}
	close(release)
	if _, err := deliver("3", 10*time.Second); err != nil {
		t.Fatalf("delivery once the file system answers: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"1",`; len(data) < len(want) || string(data[:len(want)]) != want {
		t.Fatalf("file %q, want the hung write's event first", data)
	}
}
