package audit

import (
	"strings"
	"testing"
)

// TestHashAllocatesOnlyItsString: hashing an event (once per token) allocates the hex string it
// returns and nothing else, for an event that fits the stack buffer.
// Guards against: event.go:Hash encoding the hex through a heap buffer
func TestHashAllocatesOnlyItsString(t *testing.T) {
	e := Event{ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Time: "2026-12-07T16:00:00.000000000Z", Actor: "run:01JD8ZQ6Y3K9V2W4X5T7R8P0MN",
		Action: "token.issue", Space: "team-a", Stack: "app-a", Run: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Outcome: Success, Detail: "scope write"}
	h, err := Hash(e)
	if err != nil || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		t.Fatalf("Hash = %q, %v; want 64 lowercase hex digits", h, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Hash(e) }); n != 1 {
		t.Errorf("Hash allocates %v times, want 1", n)
	}
}
