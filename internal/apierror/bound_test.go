package apierror

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMessageBoundIs2KiB pins the bound's value: a message of 3000 bytes (under twice the
// bound, over it) is answered as exactly 2048 bytes ending in the cut marker, by New and by
// Write, so that an answer quoting a caller's long input stays small.
// Guards against: MaxMessage raised (2048 -> 4096), apierror.go
func TestMessageBoundIs2KiB(t *testing.T) {
	long := strings.Repeat("n", 3000)
	if got := New(CodeNotFound, "no stack %s", long).Message; len(got) != 2048 || !strings.HasSuffix(got, " [... cut]") {
		t.Errorf("New: message of %d bytes, want 2048 ending in the marker", len(got))
	}
	rec := httptest.NewRecorder()
	Write(rec, &Error{Code: CodeNotFound, Message: long})
	if _, msg := decodeEnvelope(t, rec); len(msg) != 2048 {
		t.Errorf("Write: message of %d bytes, want 2048", len(msg))
	}
}

// TestErrorText pins an *Error's text as logs show it: its code, a colon, its message.
// Guards against: Error() without the code, apierror.go:Error
func TestErrorText(t *testing.T) {
	if got := New(CodeForbidden, "Stack %s may not do that.", "a").Error(); got != "forbidden: Stack a may not do that." {
		t.Errorf("Error() = %q", got)
	}
}
