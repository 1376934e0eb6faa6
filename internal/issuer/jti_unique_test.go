package issuer

import (
	"testing"
)

// TestJTIUnique: the contract's `jti` is unique. Drafting 3000 tokens (no signing
// needed) must give 3000 different ids; a jti drawn from too few random bytes would repeat.
func TestJTIUnique(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	seen := map[string]bool{}
	for i := range 3000 {
		d, err := iss.Prepare(Request{Run: benchRun()})
		if err != nil {
			t.Fatal(err)
		}
		if seen[d.Claims.ID] {
			t.Fatalf("jti %q repeated after %d tokens", d.Claims.ID, i)
		}
		seen[d.Claims.ID] = true
	}
}
