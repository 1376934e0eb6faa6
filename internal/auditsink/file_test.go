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

func TestFileAppendsWholeLines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f, err := auditsink.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file not created with mode 0600: %v %v", info, err)
	}
	ev := func(id string) audit.Event { return audit.Event{ID: id, Detail: "a\nb \"q\""} }
	if err := f.Deliver(ctx, []audit.Event{ev("1"), ev("2")}); err != nil {
		t.Fatal(err)
	}
	// A crash tore the next write: its partial line is cut before the next delivery.
	fh, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	_, _ = fh.WriteString(`{"id":"3","ti`)
	_ = fh.Close()
	if err := f.Deliver(ctx, []audit.Event{ev("3")}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := `{"id":"1","time":"","actor":"","action":"","space":"","stack":"","run":"","integration":"","outcome":"","detail":"a\nb \"q\"","prev":""}` + "\n"
	want = want + strings.Replace(want, `"1"`, `"2"`, 1) + strings.Replace(want, `"1"`, `"3"`, 1)
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
}

func TestFileTornFirstLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := auditsink.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Deliver(context.Background(), []audit.Event{{ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), `{"id":"1"`) || strings.Count(string(data), "\n") != 1 {
		t.Errorf("file %q", data)
	}
}

func TestFileRefusesAnUnwritablePath(t *testing.T) {
	if _, err := auditsink.NewFile(filepath.Join(t.TempDir(), "missing-dir", "audit.jsonl")); err == nil {
		t.Fatal("NewFile on a missing directory succeeded")
	}
}

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
