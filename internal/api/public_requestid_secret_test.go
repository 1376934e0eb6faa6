package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/issuer"
)

// TestPublicDocumentLogsNoSecretRequestID: a public document's answer other than 200/304 (a
// 503 while the signing keys are unavailable) writes an access line; a key's secret sent as the
// X-Request-Id is recorded there cut, as on every request through Instrument.
// Guards against: public.go:Front logging the request id without loggedRequestID
func TestPublicDocumentLogsNoSecretRequestID(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == secret })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	unavailable := func(w http.ResponseWriter, r *http.Request) int {
		w.WriteHeader(http.StatusServiceUnavailable)
		return http.StatusServiceUnavailable
	}
	front := Public(PublicConfig{Routes: map[string]issuer.Document{"/.well-known/jwks.json": {Serve: unavailable}},
		Next: Instrument(rt, log, nil), Logger: log, CutPath: rt.CutPath})
	for _, path := range []string{"/v1/runs/x", "/.well-known/jwks.json"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set(RequestIDHeader, secret)
		w := httptest.NewRecorder()
		front.ServeHTTP(w, r)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, secret) {
			t.Errorf("a log line carries the key's secret sent as X-Request-Id:\n%s", line)
		}
	}
}
