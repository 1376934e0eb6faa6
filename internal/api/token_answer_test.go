package api

import (
	"bytes"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestTokenAnswerIsWriteJSONs checks that the answer encoded by appends is, byte for byte and
// header for header, what writeJSON sends for the same tokenResponse.
func TestTokenAnswerIsWriteJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	zones := []*time.Location{time.UTC, time.FixedZone("", -7*3600), time.FixedZone("x", 5*3600+1800)}
	jwts := []string{"eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", "", `<&>"\` + "\u2028\x01", "é\xff"}
	for i := range 2000 {
		tok := issuer.Token{
			JWT:       jwts[i%len(jwts)],
			ExpiresAt: time.Unix(r.Int64N(1<<36)-1<<34, r.Int64N(2)*r.Int64N(1e9)).In(zones[i%len(zones)]),
		}
		want := httptest.NewRecorder()
		writeJSON(want, 200, tokenResponse{Token: tok.JWT, ExpiresAt: tok.ExpiresAt})
		got := httptest.NewRecorder()
		writeTokenAnswer(got, tok)
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) || got.Code != want.Code {
			t.Fatalf("%+v:\n got %d %s\nwant %d %s", tok, got.Code, got.Body.Bytes(), want.Code, want.Body.Bytes())
		}
		for _, k := range []string{"Content-Type", "Cache-Control"} {
			if got.Header().Get(k) != want.Header().Get(k) {
				t.Fatalf("%s: got %q, want %q", k, got.Header().Get(k), want.Header().Get(k))
			}
		}
	}
}
