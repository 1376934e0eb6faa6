package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTokenWithProxyRequestIDCostsNoLookupUnlogged: a proxy in front (Envoy, nginx's
// $request_id, a load balancer) adds an X-Request-Id to every request; the secret check asks
// about it only when a line records it, so a token request whose line is not written (the log
// off) makes no look-up.
// Guards against: middleware.go:Instrument cutting the request id ahead of any line
func TestTokenWithProxyRequestIDCostsNoLookupUnlogged(t *testing.T) {
	rt := NewRouter()
	asked := 0
	rt.CutSecrets(func(string) bool { asked++; return false })
	rt.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	h := Instrument(rt, slog.New(slog.DiscardHandler), nil)
	req := httptest.NewRequest("POST", "/v1/token", nil)
	req.Header.Set("X-Request-Id", "0f8fad5b-d9cb-469f-a165-70867728950e")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if asked != 0 {
		t.Errorf("POST /v1/token with a proxy's X-Request-Id made %d secret look-ups, want 0", asked)
	}
}
