package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDotDotAfterLinkIsWalkedAsTheKernelDoes: the kernel resolves "a/link/../broker.yaml" by
// following link first and then climbing from where the link points; the check walks it so
// too, and refuses the file read, which lies in a directory anyone may write.
// Guards against: decode.go checkReplaceable cleaning the path lexically (filepath.Abs) and
// checking a/broker.yaml, a file never read.
func TestDotDotAfterLinkIsWalkedAsTheKernelDoes(t *testing.T) {
	base := t.TempDir()
	safe := filepath.Join(base, "safe")
	open := filepath.Join(base, "open")
	for _, d := range []string{safe, filepath.Join(open, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	// What the kernel reads: open/broker.yaml, in a directory anyone may write.
	if err := os.WriteFile(filepath.Join(open, "broker.yaml"), []byte("issuer: https://evil.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// What the lexical path names: safe/broker.yaml.
	if err := os.WriteFile(filepath.Join(safe, "broker.yaml"), []byte("issuer: https://broker.example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(open, "sub"), filepath.Join(safe, "link")); err != nil {
		t.Fatal(err)
	}
	path := safe + "/link/../broker.yaml"
	cfg, err := Load(path)
	if err == nil {
		t.Fatalf("Load(%s) = issuer %q, nil: the file read lies in %s (mode 0777), want it refused as one anyone may replace",
			path, cfg.Issuer, open)
	}
	if !strings.Contains(err.Error(), "anyone may replace it there") {
		t.Fatalf("Load(%s) = %v, want the refusal of a replaceable file", path, err)
	}
}
