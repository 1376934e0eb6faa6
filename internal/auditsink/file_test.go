package auditsink_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
