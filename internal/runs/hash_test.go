package runs_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestHashTokenIsSHA256 checks HashToken is the SHA-256 of the token at every length, on
// both sides of the stack buffer it hashes short tokens in.
func TestHashTokenIsSHA256(t *testing.T) {
	for _, n := range []int{0, 1, 43, 64, 127, 128, 129, 1000} {
		token := strings.Repeat("x", n)
		if got, want := runs.HashToken(token), runs.TokenHash(sha256.Sum256([]byte(token))); got != want {
			t.Errorf("HashToken of %d bytes = %x, want %x", n, got, want)
		}
	}
}
