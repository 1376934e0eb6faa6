//go:build unix

package auditsink_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// A path that is not a regular file is refused when the sink is made, and when one takes a
// configured file's place later: a FIFO nobody reads would block every write, and with it the
// sink's worker and the server's shutdown.
func TestFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auditsink.NewFile(fifo); !errors.Is(err, auditsink.ErrNotRegular) {
		t.Fatalf("NewFile on a FIFO: %v, want ErrNotRegular", err)
	}
	if _, err := auditsink.NewFile(dir); err == nil {
		t.Fatal("NewFile on a directory succeeded")
	}

	path := filepath.Join(dir, "audit.jsonl")
	f, err := auditsink.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// More than a pipe's buffer, so a write into the FIFO would block.
	events := make([]audit.Event, 200)
	for i := range events {
		events[i] = audit.Event{ID: strconv.Itoa(i), Detail: strings.Repeat("d", 1024)}
	}
	done := make(chan error, 1)
	go func() { done <- f.Deliver(context.Background(), events) }()
	select {
	case err := <-done:
		if !errors.Is(err, auditsink.ErrNotRegular) {
			t.Fatalf("Deliver to a FIFO: %v, want ErrNotRegular", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Deliver to a FIFO did not return")
	}
}
