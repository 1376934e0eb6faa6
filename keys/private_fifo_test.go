//go:build unix

package keys_test

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestReadPrivateFileRefusesAFIFO: a FIFO given as a private file (a webhook's secret_file, a
// key encryption key) is refused at once as not a regular file, rather than blocking start-up
// until something writes to it.
func TestReadPrivateFileRefusesAFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := keys.ReadPrivateFile(path)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, keys.ErrInsecurePermissions) {
			t.Fatalf("ReadPrivateFile(FIFO) = %v, want ErrInsecurePermissions", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadPrivateFile(FIFO) blocks waiting for a writer")
	}
}
