package loadgen

import (
	"context"
	"errors"
	"testing"
)

// TestMissingProgramsAreNotInstalled: without redis-server or nginx the figures that need them
// are skipped, which the suite decides on ErrNotInstalled.
func TestMissingProgramsAreNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := nginxBins
	nginxBins = []string{t.TempDir() + "/nginx"}
	defer func() { nginxBins = saved }()
	if _, err := StartRedis(context.Background(), t.TempDir()); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("StartRedis without redis-server: %v, want ErrNotInstalled", err)
	}
	if _, err := StartNginx(context.Background(), t.TempDir(), map[string][]byte{"/x": []byte("{}")}); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("StartNginx without nginx: %v, want ErrNotInstalled", err)
	}
}
