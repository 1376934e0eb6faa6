package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestIDNeverCarriesASecret: a run token or an API key secret sent as X-Request-Id
// (well formed: letters, digits, '-', '_' and at most 64 bytes) must not become the request id
// that every log line of the request carries: no log line holds a token or a credential.
func TestRequestIDNeverCarriesASecret(t *testing.T) {
	for _, secret := range []string{
		"brk_run_QiyFSSkRzq3V0b5nV1Hn0fOqXx7o8kq2dWc3YbJ9Zs4", // a run token (51 bytes)
		"brk_wdIDp8yLdtPMXUx18AdFMnYHAh002SaQXdHlDgjEolo",     // an API key secret (47 bytes)
		"req.brk_wdIDp8yLdtPMXUx18AdFMnYHAh002SaQXdHlDgjEolo", // one after a '.'
		"req-brk_wdIDp8yLdtPMXUx18AdFMnYHAh002SaQXdHlDgjEolo", // one after a '-'
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		h := Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			slog.New(LogRequestIDs(log.Handler())).InfoContext(r.Context(), "handled")
			w.WriteHeader(http.StatusUnauthorized)
		}), log, nil)
		req := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
		req.Header.Set(RequestIDHeader, secret)
		h.ServeHTTP(httptest.NewRecorder(), req)
		if strings.Contains(logs.String(), secret[len(secret)-20:]) {
			t.Errorf("X-Request-Id %.12s…: the log holds the secret:\n%s", secret, logs.String())
		}
	}
}
