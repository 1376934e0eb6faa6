package audit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// oracle is the reference canonicalization: encoding/json, then the JCS library.
func oracle(t testing.TB, e Event) []byte {
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jcs.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var tricky = []string{
	"", "plain", `quote " and backslash \`, "<&> html", "tab\tnew\nline\rcr", "\b\f", "\x00\x01\x1f\x7f",
	"é ü ß", "\u2028\u2029 separators", "emoji 🔑 and 𝄞", "\ufffd", "/slash/", "a\u0000b",
}

func TestCanonicalMatchesRFC8785Library(t *testing.T) {
	for _, s := range tricky {
		e := Event{ID: s, Detail: s + "|" + s, Actor: "run:" + s, Prev: s}
		got, err := Canonical(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracle(t, e); !bytes.Equal(got, want) {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := r.IntN(12); n > 0; n-- {
			switch r.IntN(4) {
			case 0:
				b.WriteRune(rune(r.IntN(0x80)))
			case 1:
				b.WriteRune(rune(r.IntN(0x800)))
			case 2:
				b.WriteRune(rune(0x2000 + r.IntN(0x100)))
			default:
				b.WriteRune(rune(0x10000 + r.IntN(0x1000)))
			}
		}
		e := Event{Detail: b.String(), Space: b.String()}
		got, err := Canonical(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracle(t, e); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", b.String(), got, want)
		}
	}
}

func TestCanonicalRefusesInvalidUTF8(t *testing.T) {
	if _, err := Canonical(Event{Detail: "bad \xff byte"}); err == nil {
		t.Error("invalid UTF-8 was canonicalized")
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		e := Event{Detail: s, Actor: s}
		got, err := Canonical(e)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracle(t, e); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
