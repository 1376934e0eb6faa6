package keys_test

import (
	"path/filepath"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

func TestMemoryBackend(t *testing.T) {
	keystest.TestBackend(t, func(*testing.T) keys.Backend { return keys.NewMemory() })
}

func TestFileBackend(t *testing.T) {
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		return keys.NewFile(filepath.Join(t.TempDir(), "keys"))
	})
}

// Two File backends on one directory behave as one backend: the contract holds across them.
func TestFileBackendTwoReplicas(t *testing.T) {
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		dir := filepath.Join(t.TempDir(), "keys")
		return &alternating{a: keys.NewFile(dir), b: keys.NewFile(dir)}
	})
}
