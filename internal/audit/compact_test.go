package audit

import (
	"strings"
	"testing"
)

func TestPackRoundTrip(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	full := Event{ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Time: "2026-12-01T10:00:00.123456789Z", Actor: "run:x",
		Action: "token.issue", Space: "team-a", Stack: "app-a", Run: "x", Integration: "aws-prod",
		Outcome: Success, Detail: "aud=sts.amazonaws.com jti=abc", Prev: hash}
	tests := []struct {
		name string
		e    Event
	}{
		{"empty", Event{}},
		{"every field, hash prev", full},
		{"upper-case hex prev is kept as written", func() Event { e := full; e.Prev = strings.ToUpper(hash); return e }()},
		{"prev of another length", func() Event { e := full; e.Prev = hash[:63]; return e }()},
		{"prev not hex", func() Event { e := full; e.Prev = "not a hash"; return e }()},
		{"long detail (multi-byte length)", func() Event { e := full; e.Detail = strings.Repeat("é\n\"", 300); return e }()},
		{"one field only", Event{Detail: "d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pack(tc.e)
			if len(p) != cap(p) {
				t.Errorf("packed into %d bytes of a %d-byte allocation", len(p), cap(p))
			}
			if got := p.event(); got != tc.e {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.e)
			}
		})
	}
	if p := pack(full); len(p) > 200 {
		t.Errorf("a token event packs into %d bytes, want at most 200", len(p))
	}
}
