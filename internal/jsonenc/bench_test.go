package jsonenc

import (
	"strings"
	"testing"
)

// BenchmarkString is one string of each kind the token path encodes: a compact JWS (the
// token answer) and a claim value.
func BenchmarkString(b *testing.B) {
	for _, tc := range []struct{ name, s string }{
		{"jws", "eyJhbGciOiJFUzI1NiIsImtpZCI6IjEyMyJ9." + strings.Repeat("eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4x", 16) + ".c2ln"},
		{"claim", "space:team-a:stack:app-a:run_type:TRACKED:scope:write"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.SetBytes(int64(len(tc.s)))
			for b.Loop() {
				buf = String(buf[:0], tc.s)
			}
			if len(buf) != len(tc.s)+2 {
				b.Fatalf("encoded %d bytes, want %d", len(buf), len(tc.s)+2)
			}
		})
	}
}
