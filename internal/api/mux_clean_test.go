package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Every unmatched request gets the error envelope, never ServeMux's own answers: a path that is
// not clean (//, /./, /../), which ServeMux would redirect with an HTML body, and a CONNECT
// whose target is not a path, which it would answer in plain text, get the enveloped 404; a
// clean path and one with a trailing slash still reach their routes.
func TestRouterAnswersUncleanPathsInTheEnvelope(t *testing.T) {
	rt := NewRouter()
	rt.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	rt.HandleFunc("GET /v1/dir/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	for _, tc := range []struct {
		method, target string
		routed         bool
	}{
		{"POST", "//v1/token", false},
		{"POST", "/v1//token", false},
		{"GET", "/v1/runs/../token", false},
		{"GET", "/v1/./runs/x", false},
		{"CONNECT", "example.com:443", false},
		{"POST", "/v1/token", true},
		{"GET", "/v1/runs/x", true},
		{"GET", "/v1/dir/", true},
	} {
		req := httptest.NewRequest(tc.method, "http://broker"+"/", nil)
		req.RequestURI = tc.target
		req.URL.Path = tc.target
		if tc.method == "CONNECT" {
			req.URL.Path = ""
			req.URL.Host = tc.target
			req.Host = tc.target
		}
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req)
		var env struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if tc.routed != (rec.Code == 299) {
			t.Errorf("%s %s: %d, routed %v, want routed %v", tc.method, tc.target, rec.Code, rec.Code == 299, tc.routed)
			continue
		}
		if tc.routed {
			continue
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != http.StatusNotFound || env.Error.Code != "not_found" || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q %q: not the error envelope", tc.method, tc.target, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
	}
}

// TestRouterRefusesLargeBodiesOnEveryRoute: a body declared longer than MaxBodyBytes is a 413 in
// the envelope on every route, a route that reads no body (GET, DELETE) included; a body of
// MaxBodyBytes reaches its route.
func TestRouterRefusesLargeBodiesOnEveryRoute(t *testing.T) {
	rt := NewRouter()
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	rt.HandleFunc("DELETE /v1/stacks/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	for _, tc := range []struct {
		method, path string
		length       int64
		want         int
	}{
		{"GET", "/v1/runs/x", MaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{"DELETE", "/v1/stacks/x", 70 << 10, http.StatusRequestEntityTooLarge},
		{"GET", "/v1/nowhere", MaxBodyBytes + 1, http.StatusRequestEntityTooLarge},
		{"DELETE", "/v1/stacks/x", MaxBodyBytes, 299},
		{"GET", "/v1/runs/x", 0, 299},
	} {
		req := httptest.NewRequest(tc.method, "http://broker"+tc.path, nil)
		req.ContentLength = tc.length
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s with a body of %d bytes: %d, want %d", tc.method, tc.path, tc.length, rec.Code, tc.want)
			continue
		}
		if tc.want == http.StatusRequestEntityTooLarge {
			var env struct{ Error struct{ Code string } }
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code != "too_large" {
				t.Errorf("%s %s: body %q, want the too_large envelope", tc.method, tc.path, rec.Body)
			}
		}
	}
}
