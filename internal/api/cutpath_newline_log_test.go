package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSecretWithNewlineStaysOutOfAccessLog: GET /v1/runs/<secret>%0A (a secret pasted with its
// line end, or a whole "Bearer <secret>" header line) is routed as any id, and its access log
// line carries the secret cut.
// Guards against: mux.go:hardSeparators leaving out line ends
func TestSecretWithNewlineStaysOutOfAccessLog(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == secret })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such run", http.StatusNotFound)
	})
	var buf bytes.Buffer
	h := Instrument(rt, slog.New(slog.NewJSONHandler(&buf, nil)), nil)
	for _, p := range []string{"/v1/runs/" + secret + "%0A", "/v1/runs/Bearer%20" + secret + "%0D%0A"} {
		buf.Reset()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if strings.Contains(buf.String(), secret) {
			t.Errorf("GET %s (%d): log carries the secret: %s", p, w.Code, strings.TrimSpace(buf.String()))
		}
	}
}
