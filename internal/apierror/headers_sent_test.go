package apierror

import (
	"net/http/httptest"
	"testing"
)

// TestHeadersSentWithTheStatus checks that the headers of an error answer are on the wire,
// that is set before the status line is written: Content-Type, Cache-Control, Retry-After and
// WWW-Authenticate as the client receives them, not only as left in the header map afterwards.
// Guards against: w.WriteHeader moved before the header sets in Write (headers never sent)
func TestHeadersSentWithTheStatus(t *testing.T) {
	for _, tc := range []struct {
		err        *Error
		retry, www string
	}{
		{&Error{Code: CodeRateLimited, Message: "Slow down.", RetryAfter: 3}, "3", ""},
		{&Error{Code: CodeUnauthenticated, Message: "Who?"}, "", "Bearer"},
		{&Error{Code: CodeInvalidRequest, Message: "Bad."}, "", ""},
	} {
		rec := httptest.NewRecorder()
		Write(rec, tc.err)
		res := rec.Result()
		h := res.Header
		if res.StatusCode != tc.err.Status() {
			t.Errorf("%s: status %d, want %d", tc.err.Code, res.StatusCode, tc.err.Status())
		}
		if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: sent Content-Type %q, Cache-Control %q; want application/json, no-store",
				tc.err.Code, h.Get("Content-Type"), h.Get("Cache-Control"))
		}
		if h.Get("Retry-After") != tc.retry || h.Get("WWW-Authenticate") != tc.www {
			t.Errorf("%s: sent Retry-After %q, WWW-Authenticate %q; want %q, %q",
				tc.err.Code, h.Get("Retry-After"), h.Get("WWW-Authenticate"), tc.retry, tc.www)
		}
	}
}
