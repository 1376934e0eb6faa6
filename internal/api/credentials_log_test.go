package api

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestExchangeFailureLogHoldsNoToken: a failed exchange whose error is not an upstream refusal
// is logged without any JWT-shaped text it carries (a broker token quoted by a client library,
// say), as the exchange's own log line and its audit event scrub it: no token reaches the
// server log or the answer. A store that is down behind it is still answered as such.
func TestExchangeFailureLogHoldsNoToken(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzcGFjZTpwcm9kIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"an error of its own", errors.New("vault login with jwt " + jwt + " failed"), 500},
		{"a store that is down", fmt.Errorf("login with %s: %w", jwt, runs.ErrUnavailable), 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logged, nil))
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/v1/credentials", nil)
			fail(w, r, log, exchangeError("vault", tc.err))
			if strings.Contains(logged.String(), jwt) || strings.Contains(w.Body.String(), jwt) {
				t.Errorf("the token reached the log or the answer:\nlog: %s\nanswer: %d %s",
					logged.String(), w.Code, w.Body.String())
			}
			if w.Code != tc.code || !strings.Contains(logged.String(), "[redacted-jwt]") {
				t.Errorf("answer %d, log %q; want %d and the error logged scrubbed",
					w.Code, logged.String(), tc.code)
			}
		})
	}
}
