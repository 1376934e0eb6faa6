package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHashIsStable pins the hash of one event, as the chain has always computed it: a change of
// the canonical form would break every stored chain.
func TestHashIsStable(t *testing.T) {
	e := Event{ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Time: "2026-12-01T10:00:00.123456789Z", Actor: "run:01JD8ZQ6Y3K9V2W4X5T7R8P0MN",
		Action: "token.issue", Space: "team-a", Stack: "app-a", Run: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Integration: "aws-prod",
		Outcome: Success, Detail: "aud=sts.amazonaws.com jti=q2Qd6c1c9m0W0bM3pY5lVg <\"tab\t\u2028 é 🔑", Prev: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	const want = "7f8da7f67446d81225bca79f8afe3a55671c351ad1b98f334e464ea6b93eeee6"
	if got, err := Hash(e); err != nil || got != want {
		t.Errorf("Hash = %s, %v; want %s", got, err, want)
	}
}

// TestHashOfRandomEventsMatchesRFC8785Library checks, on events whose every field is random
// (long ones included, past Hash's stack buffer), that Canonical is the JCS library's form of
// encoding/json's encoding and Hash its SHA-256.
func TestHashOfRandomEventsMatchesRFC8785Library(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	text := func() string {
		var b strings.Builder
		n := r.IntN(20)
		if r.IntN(50) == 0 {
			n = 400 + r.IntN(400)
		}
		for ; n > 0; n-- {
			switch r.IntN(5) {
			case 0:
				b.WriteRune(rune(r.IntN(0x80)))
			case 1:
				b.WriteRune(rune(0x80 + r.IntN(0x780)))
			case 2:
				b.WriteRune(rune(0x2020 + r.IntN(0x10)))
			case 3:
				b.WriteRune(rune(0x10000 + r.IntN(0x1000)))
			default:
				b.WriteString("run:01JD")
			}
		}
		return b.String()
	}
	for range 3000 {
		e := Event{ID: text(), Time: text(), Actor: text(), Action: text(), Space: text(), Stack: text(), Run: text(),
			Integration: text(), Outcome: text(), Detail: text(), Prev: text()}
		want := oracle(t, e)
		got, err := Canonical(e)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Canonical(%+v):\n got %s (%v)\nwant %s", e, got, err, want)
		}
		sum := sha256.Sum256(want)
		if h, err := Hash(e); err != nil || h != hex.EncodeToString(sum[:]) {
			t.Fatalf("Hash(%+v) = %s, %v; want the SHA-256 of %s", e, h, err, want)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	e := Event{ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Time: "2026-12-01T10:00:00.123456789Z", Actor: "run:01JD8ZQ6Y3K9V2W4X5T7R8P0MN",
		Action: "token.issue", Space: "team-a", Stack: "app-a", Run: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Outcome: Success,
		Detail: "aud=sts.amazonaws.com jti=q2Qd6c1c9m0W0bM3pY5lVg", Prev: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash(e); err != nil {
			b.Fatal(err)
		}
	}
}
