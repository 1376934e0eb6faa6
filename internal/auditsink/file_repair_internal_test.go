package auditsink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestFileCutsATornLineLongerThanAChunk pins that the torn-line repair keeps every whole
// line before a torn tail however long the tail is: only the torn tail is cut, even when the
// last newline lies more than one read chunk back.
// Guards against: file.go:cutTornLine `for end > 0` -> `if end > 0` (whole file wiped)
func TestFileCutsATornLineLongerThanAChunk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const whole = `{"id":"0"}` + "\n"
	if err := os.WriteFile(path, []byte(whole+strings.Repeat("x", 10000)), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Deliver(context.Background(), []audit.Event{{ID: "1"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), whole+`{"id":"1"`) || strings.Count(string(data), "\n") != 2 {
		t.Errorf("file %q, want the whole first line kept and the torn tail replaced", data)
	}
}

// TestFileReportsFailedRepairAndWrite pins that a delivery fails when the file cannot be
// repaired (its torn last line cannot be read) or written: the events are not in the file, so
// the delivery must not count as done.
// Guards against: file.go:write ignore cutTornLine error
// Guards against: file.go:write ignore fh.Write error
func TestFileReportsFailedRepairAndWrite(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		flag    int
	}{
		{"unreadable torn line", "torn", os.O_WRONLY},
		{"unwritable file", "", os.O_RDONLY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := NewFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f.open = func(p string) (*os.File, error) { return os.OpenFile(p, tc.flag, 0) }
			if err := f.Deliver(context.Background(), []audit.Event{{ID: "1"}}); err == nil {
				t.Fatal("delivery reported success")
			}
		})
	}
}
