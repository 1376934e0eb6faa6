package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestTokenAnswerOutOfRangeExpiryIsNoSuccess checks that a token whose expiry cannot be
// written as an RFC 3339 time (a year past 9999) is answered as encoding/json answers it, a 500
// in the envelope, never a 200 with a broken document.
// Guards against: worker.go:writeTokenAnswer ignores TimeField's refusal
func TestTokenAnswerOutOfRangeExpiryIsNoSuccess(t *testing.T) {
	rec := httptest.NewRecorder()
	exp := time.Date(10000, time.January, 1, 0, 0, 0, 0, time.UTC)
	writeTokenAnswer(rec, issuer.Token{JWT: "a.b.c", ExpiresAt: exp})
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("token expiring in year 10000: %d %s, want 500", rec.Code, rec.Body.Bytes())
	}
}

// TestTokenBodyFastPathRefusesEveryControlByte checks that a compact token body whose
// audience holds any control byte (0x00-0x1f) decodes exactly as encoding/json decodes it, which
// refuses a raw control character in a string.
// Guards against: worker.go:tokenRequest.decodeFast accepts 0x1f (c < 0x1f rather than c < 0x20)
func TestTokenBodyFastPathRefusesEveryControlByte(t *testing.T) {
	for c := byte(0); c < 0x20; c++ {
		body := `{"audience":"a` + string([]byte{c}) + `b"}`
		var fast tokenRequest
		var plain plainTokenRequest
		ferr := decodeBody(bodyRequest(body), &fast, bodyOptional)
		perr := decodeBody(bodyRequest(body), &plain, bodyOptional)
		if fmtErr(ferr) != fmtErr(perr) || fast.Audience != plain.Audience {
			t.Errorf("control byte %#x: fast path gave (%q, %v), encoding/json (%q, %v)",
				c, fast.Audience, ferr, plain.Audience, perr)
		}
	}
}

// bodyRequest is a request carrying body.
func bodyRequest(body string) *http.Request {
	return &http.Request{Body: io.NopCloser(strings.NewReader(body))}
}
