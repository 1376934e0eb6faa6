package gcpemu

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestTokenHasOneSpelling: a token is opened only as it was handed out. Base64 leaves a few bits
// of its last character unused; a token whose last character differs only in them decodes to
// the same bytes, yet is another token, which Google's opaque tokens would not match.
func TestTokenHasOneSpelling(t *testing.T) {
	s := newSealer()
	for pad := range 3 { // one of three payload lengths leaves bits of the last character unused
		token, err := s.seal(federatedTokens, map[string]string{"p": strings.Repeat("x", pad)})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := s.open(federatedTokens, token, &v); err != nil {
			t.Fatalf("the token as handed out: %v", err)
		}
		body := strings.TrimPrefix(token, federatedTokens.prefix)
		want, _ := base64.RawURLEncoding.DecodeString(body)
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for _, c := range alphabet {
			other := body[:len(body)-1] + string(c)
			if other == body {
				continue
			}
			if got, err := base64.RawURLEncoding.DecodeString(other); err != nil || string(got) != string(want) {
				continue // not the same bytes: the signature test covers it
			}
			if err := s.open(federatedTokens, federatedTokens.prefix+other, &v); !errors.Is(err, errBadToken) {
				t.Errorf("the token spelled %q instead of %q at its end: %v, want errBadToken", c, body[len(body)-1:], err)
			}
		}
	}
}
