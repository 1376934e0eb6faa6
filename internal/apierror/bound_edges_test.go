package apierror

import (
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRetryAfterOneSecond pins that the smallest positive RetryAfter, one second, is sent
// as Retry-After: 1 (a limiter rounds a short rest of block up to one second).
// Guards against: apierror.go:Write `e.RetryAfter > 0` -> `e.RetryAfter > 1`
func TestRetryAfterOneSecond(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, &Error{Code: CodeRateLimited, Message: "Slow down.", RetryAfter: 1})
	if got := rec.Header().Get("Retry-After"); got != "1" || rec.Code != 429 {
		t.Errorf("RetryAfter 1: status %d, Retry-After %q; want 429 and \"1\"", rec.Code, got)
	}
}

// TestBoundCutsAtTheBound pins where a long message is cut: an ASCII message keeps its
// first MaxMessage-len(marker) bytes, so the result is exactly MaxMessage bytes; and a cut never
// keeps a piece of a broken rune (bytes that cannot start a rune are cut away, down to nothing).
// Guards against: apierror.go:bound `cut := MaxMessage - len(cutMarker)` -> one byte less
// Guards against: apierror.go:bound `for cut > 0 && ...` -> `for cut > 1 && ...`
func TestBoundCutsAtTheBound(t *testing.T) {
	long := strings.Repeat("abcdefghij", MaxMessage)
	got := New(CodeInvalidRequest, "%s", long).Message
	if want := long[:MaxMessage-len(cutMarker)] + cutMarker; got != want {
		t.Errorf("ASCII message cut to %d bytes, want exactly %d (its prefix and the marker)", len(got), MaxMessage)
	}
	got = New(CodeInvalidRequest, "%s", strings.Repeat("\x80", 2*MaxMessage)).Message
	if got != cutMarker || !utf8.ValidString(got) {
		t.Errorf("a message with no rune start was cut to %q, want only the marker", got)
	}
}
