package contract

import (
	"os"
	"path/filepath"
	"testing"
)

// Example returns the contents of the contract's broker.example.yaml (see ExamplePath).
func Example(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(ExamplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Lookup finds the contract's broker.example.yaml by walking up from the working directory.
func Lookup() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "contract", "broker.example.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// ExamplePath is Lookup for a test that needs the file: where it is absent the test is skipped,
// except under CI (CI set), where shared/ always stands beside the repository and a skip would
// hide a failure.
func ExamplePath(t testing.TB) string {
	t.Helper()
	if p, ok := Lookup(); ok {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("shared/contract/broker.example.yaml not found above the test directory, and CI is set")
	}
	t.Skip("shared/contract/broker.example.yaml is not beside this checkout")
	return ""
}
