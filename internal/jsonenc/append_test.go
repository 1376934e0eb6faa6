package jsonenc

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var tricky = []string{
	"", "plain", `quote " and backslash \`, "<&> html", "tab\tnew\nline\rcr", "\b\f", "\x00\x01\x1f\x7f",
	"é ü ß", "\u2028\u2029 separators", "emoji 🔑 and 𝄞", "\ufffd", "/slash/", "a\u0000b",
	"bad \xff byte", "\xe2\x80", "\xed\xa0\x80 surrogate", "trailing \xc3",
}

// randomString mixes ASCII (controls included), multi-byte runes, the separators and bytes that
// are not UTF-8.
func randomString(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(16); n > 0; n-- {
		switch r.IntN(6) {
		case 0:
			b.WriteByte(byte(r.IntN(0x80)))
		case 1:
			b.WriteRune(rune(0x80 + r.IntN(0x780)))
		case 2:
			b.WriteRune(rune(0x2020 + r.IntN(0x10)))
		case 3:
			b.WriteRune(rune(0x10000 + r.IntN(0x1000)))
		case 4:
			b.WriteByte(byte(0x80 + r.IntN(0x80)))
		default:
			b.WriteString("abc")
		}
	}
	return b.String()
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
	for _, s := range tricky {
		check(s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		check(randomString(r))
	}
}

func TestTimeFieldMatchesEncodingJSON(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600+60*7)),
	} {
		want, err := json.Marshal(map[string]time.Time{"t": tm})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := TimeField([]byte{'{'}, "t", tm)
		if got = append(got, '}'); !ok || !bytes.Equal(got, want) {
			t.Errorf("%v: got %s (%v), want %s", tm, got, ok, want)
		}
	}
	if _, ok := TimeField(nil, "t", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("year 10000 was encoded")
	}
}

func FuzzString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}
