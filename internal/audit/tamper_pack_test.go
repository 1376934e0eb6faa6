package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// freshChain links n fresh events, dated just before now, into a chain from its start.
func freshChain(t *testing.T, n int, now time.Time) []Event {
	t.Helper()
	out := make([]Event, 0, n)
	prev := ""
	for i := range n {
		e := Event{
			ID: fmt.Sprintf("ev%02d", i), Time: now.Add(-10 * time.Second).Format(time.RFC3339Nano),
			Actor: "api_key:ci", Action: "run.create", Space: "prod", Outcome: Success,
			Detail: fmt.Sprintf("detail %d", i), Prev: prev,
		}
		h, err := Hash(e)
		if err != nil {
			t.Fatal(err)
		}
		out, prev = append(out, e), h
	}
	return out
}

// TestVerifyAnchoredDetectsTampering: a change, removal or reordering of any recorded event
// that is not the last breaks a link, and VerifyAnchored (so VerifyListed) fails with ErrBroken,
// even with no checkpoint in the trail and every event within the schedule.
// Guards against: the link check comparing only the length of prev with the previous event's hash.
func TestVerifyAnchoredDetectsTampering(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tamper func(events []Event) []Event
	}{
		{"a detail changed", func(ev []Event) []Event { ev[2].Detail = "rewritten"; return ev }},
		{"an actor changed", func(ev []Event) []Event { ev[1].Actor = "api_key:other"; return ev }},
		{"a prev replaced", func(ev []Event) []Event { ev[3].Prev = ev[2].Prev; return ev }},
		{"an event removed", func(ev []Event) []Event { return append(ev[:2], ev[3:]...) }},
		{"two events swapped", func(ev []Event) []Event { ev[1], ev[2] = ev[2], ev[1]; return ev }},
	}
	cfg := AnchorConfig{Issuer: "https://b.test", Now: now}
	if _, err := VerifyAnchored(freshChain(t, 5, now), cfg); err != nil {
		t.Fatalf("VerifyAnchored of the intact chain: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := tt.tamper(freshChain(t, 5, now))
			if _, err := VerifyAnchored(events, cfg); !errors.Is(err, ErrBroken) {
				t.Errorf("VerifyAnchored = %v, want ErrBroken", err)
			}
		})
	}
}

// TestParseEventRequiresEveryMember: an event missing any one of its eleven members,
// the first in canonical order ("action") included, is refused.
// Guards against: the missing-member check skipping the first member name.
func TestParseEventRequiresEveryMember(t *testing.T) {
	raw, err := json.Marshal(Event{ID: "x", Action: "run.create", Prev: "ab"})
	if err != nil {
		t.Fatal(err)
	}
	var members map[string]string
	if err := json.Unmarshal(raw, &members); err != nil {
		t.Fatal(err)
	}
	for _, name := range eventFieldNames {
		t.Run(name, func(t *testing.T) {
			rest := map[string]string{}
			for k, v := range members {
				if k != name {
					rest[k] = v
				}
			}
			without, err := json.Marshal(rest)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseEvent(without)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("no member %q", name)) {
				t.Errorf("ParseEvent(%s) = %v, want an error naming %q", without, err, name)
			}
		})
	}
}

// TestPackKeepsPrevThatIsNotLowercaseHex: a Prev of a hash's length that is not lowercase
// hex (a letter past 'f', upper case) is kept as text, so the stored event reads back unchanged
// and its hash still holds.
// Guards against: hexValue accepting 'g' as a digit (decodeHex taking a non-hex Prev as a hash).
func TestPackKeepsPrevThatIsNotLowercaseHex(t *testing.T) {
	base := strings.Repeat("0", 64)
	tests := []struct{ name, prev string }{
		{"a g as the low digit", base[:63] + "g"},
		{"a g as the high digit", "g" + base[1:]},
		{"all g", strings.Repeat("g", 64)},
		{"upper case", strings.Repeat("AB", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p packer
			e := Event{ID: "x", Time: "t", Action: "run.create", Outcome: Success, Prev: tt.prev}
			if got := p.unpack(p.pack(nil, &e)); got != e {
				t.Errorf("round trip: got prev %q, want %q", got.Prev, e.Prev)
			}
		})
	}
}
