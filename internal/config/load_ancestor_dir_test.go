package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadRefusesFileUnderReplaceableAncestor checks the rule Load holds the file to:
// no one but its operators may replace what it reads. A directory anyone may write (and that
// is not sticky) anywhere above the file lets anyone rename the file's directory away and put
// a directory of their own, with a configuration granting them every role, in its place; so
// Load must refuse a file below one, as it refuses one directly in it.
func TestLoadRefusesFileUnderReplaceableAncestor(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	conf := filepath.Join(open, "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(conf, "broker.yaml")
	body := []byte("issuer: https://broker.example.com\n")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "anyone may replace it there") {
		t.Fatalf("Load(%s) under %s of mode 0777 = %v, want refused: anyone may rename %s "+
			"away and put their own directory and file in its place", path, open, err, conf)
	}
}
