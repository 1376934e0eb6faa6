package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRouterRefusesUnparsableQuery: a query string that does not parse (a bad %-escape, a ';') is
// 400 invalid_request before its route, which would otherwise see the bad parameter dropped and
// list as if no space had been named; a good query still reaches the route.
func TestRouterRefusesUnparsableQuery(t *testing.T) {
	rt := NewRouter()
	rt.HandleFunc("GET /v1/audit", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	for _, tc := range []struct {
		query  string
		routed bool
	}{
		{"space=%zzprod", false},
		{"space=prod;x=1", false},
		{"space=%", false},
		{"space=prod&limit=5", true},
		{"space=a%2Fb", true},
		{"", true},
	} {
		req := httptest.NewRequest("GET", "http://broker/v1/audit", nil)
		req.URL.RawQuery = tc.query
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req)
		var env struct {
			Error struct{ Code string } `json:"error"`
		}
		switch {
		case tc.routed && rec.Code != 299:
			t.Errorf("?%s: %d, want it routed", tc.query, rec.Code)
		case !tc.routed && (rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Error.Code != "invalid_request"):
			t.Errorf("?%s: %d %s, want 400 invalid_request", tc.query, rec.Code, rec.Body)
		}
	}
}
