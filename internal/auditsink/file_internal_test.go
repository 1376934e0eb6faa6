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
	f, path, opened, release := heldFile(t)
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

// A delivery stopped (its context canceled) while its write is under way waits a moment for the
// write and reports how it went: a write that succeeds is not reported as failed, which would
// append its events again after a restart. A write still hung past the grace is a failure.
func TestFileDeliveryStoppedMidWrite(t *testing.T) {
	f, _, opened, release := heldFile(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- f.Deliver(ctx, []audit.Event{{ID: "1"}}) }()
	<-opened
	cancel()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("a delivery stopped mid-write, whose write then succeeded: %v", err)
	}

	hung := make(chan struct{})
	f.open = func(p string) (*os.File, error) {
		opened <- struct{}{}
		<-hung
		return openAppend(p)
	}
	t.Cleanup(func() {
		close(hung)
		f.busy <- struct{}{} // the hung write has returned, before the directory goes
	})
	ctx, cancel = context.WithCancel(context.Background())
	go func() { errc <- f.Deliver(ctx, []audit.Event{{ID: "2"}}) }()
	<-opened
	start := time.Now()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("a delivery stopped while its write hangs: %v, want a canceled error", err)
	}
	if took := time.Since(start); took < stopGrace/2 || took > 5*time.Second {
		t.Errorf("a delivery stopped while its write hangs returned after %s, want about %s", took, stopGrace)
	}
}

// heldFile returns a File sink in a temporary directory, with path, whose writes each signal
// opened as they start and then wait for release to be closed: a file system that hangs.
func heldFile(t *testing.T) (f *File, path string, opened chan struct{}, release chan struct{}) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	release = make(chan struct{})
	opened = make(chan struct{}, 4)
	f.open = func(p string) (*os.File, error) {
		opened <- struct{}{}
		<-release
		return openAppend(p)
	}
	return f, path, opened, release
}
