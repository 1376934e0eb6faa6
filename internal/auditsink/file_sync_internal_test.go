package auditsink

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestFileReportsAFailedSync pins that a delivery whose fsync fails is a failed delivery
// (the events are not known durable; reporting success would move the cursor past them).
// Guards against: file.go:130 `if err := fh.Sync(); err != nil` -> `if false`
func TestFileReportsAFailedSync(t *testing.T) {
	f, err := NewFile(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var r *os.File
	t.Cleanup(func() {
		if r != nil {
			_ = r.Close()
		}
	})
	// A pipe's write end: writes land in its buffer, fsync fails (EINVAL).
	f.open = func(string) (*os.File, error) {
		pr, pw, err := os.Pipe()
		r = pr
		return pw, err
	}
	if err := f.Deliver(context.Background(), []audit.Event{{ID: "1"}}); err == nil {
		t.Fatal("a delivery whose fsync failed reported success")
	}
}
