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

// TestFileRefusesSymlink: a file sink writes only to the file its path names, never through a
// symbolic link, at start or when the path becomes one later: the torn-line repair it makes
// before appending would cut the last line of a file broker never wrote.
func TestFileRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim.conf")
	const orig = "first line\nlast line without newline"
	if err := os.WriteFile(victim, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked.jsonl")
	if err := os.Symlink(victim, linked); err != nil {
		t.Fatal(err)
	}
	if _, err := auditsink.NewFile(linked); !errors.Is(err, auditsink.ErrNotRegular) {
		t.Errorf("NewFile on a symbolic link = %v, want ErrNotRegular", err)
	}

	later := filepath.Join(dir, "audit.jsonl")
	f, err := auditsink.NewFile(later)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(later); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, later); err != nil {
		t.Fatal(err)
	}
	if err := f.Deliver(context.Background(), []audit.Event{{ID: "1"}}); !errors.Is(err, auditsink.ErrNotRegular) {
		t.Errorf("Deliver once the path is a symbolic link = %v, want ErrNotRegular", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != orig {
		t.Errorf("the file the link names changed: %q, was %q", data, orig)
	}
}
