package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestBrokerEnvTrimsURLAndSecret pins that a BROKER_URL with a trailing slash and an API key with
// surrounding whitespace (a secret read with $(cat file) ends in a newline) reach the broker as
// /v1/... with "Bearer SECRET".
// Guards against: client.go:71 `strings.TrimSuffix(..., "/")` dropped (requests go to
// //v1/api-keys)
// Guards against: client.go:72 `strings.TrimSpace(e.getenv(secretVar))` -> `e.getenv(secretVar)`
func TestBrokerEnvTrimsURLAndSecret(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/api-keys" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"apiKey":{"id":"ci","bindings":[{"role":"reader","space":"root"}]},"secret":"brk_k_new"}`)
	}))
	defer srv.Close()
	for _, tc := range []struct{ name, url, key string }{
		{"a trailing slash", srv.URL + "/", "k"},
		{"a secret ending in a newline", srv.URL, "k\n"},
		{"both, and spaces", " " + srv.URL + "/ ", "  k \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			r := runCLI(map[string]string{"BROKER_URL": tc.url, "BROKER_API_KEY": tc.key}, "api-keys", "create", "--id", "ci", "--bind", "reader@root")
			mu.Lock()
			defer mu.Unlock()
			if r.code != 0 || len(seen) != 1 || seen[0] != "POST /v1/api-keys Bearer k" {
				t.Errorf("%+v, broker saw %q; want one POST /v1/api-keys with Bearer k", r, seen)
			}
		})
	}
}

// TestBrokerURLWithoutAHost pins that a BROKER_URL of a scheme alone is a usage error (exit 2)
// saying how it must start.
// Guards against: client.go:91 `|| u.Host == ""` dropped
func TestBrokerURLWithoutAHost(t *testing.T) {
	for _, u := range []string{"https://", "http://", "https:///v1"} {
		r := runCLI(map[string]string{"BROKER_URL": u, "BROKER_API_KEY": "k"}, "get", "spaces")
		if r.code != exitUsage || !strings.Contains(r.stderr, "BROKER_URL must start with http:// or https://") {
			t.Errorf("BROKER_URL=%q: %+v; want exit %d and the rule", u, r, exitUsage)
		}
	}
}

// TestAnswerErrorWithoutEnvelope pins that an error answer that is JSON but not the broker's error
// envelope (a proxy's, say) is reported with its HTTP status line and code "unknown", not as an
// empty message.
// Guards against: client.go:151 `json.Unmarshal(raw, &env) != nil || env.Error.Code == ""` ->
// `json.Unmarshal(raw, &env) != nil`
func TestAnswerErrorWithoutEnvelope(t *testing.T) {
	for _, body := range []string{`{"message":"upstream down"}`, `{"error":{"message":"no code"}}`, `not json`} {
		resp := &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway"}
		err := answerError(resp, []byte(body))
		if want := "broker answered 502 Bad Gateway (HTTP 502 unknown)"; err == nil || err.Error() != want {
			t.Errorf("answerError(%s) = %v, want %q", body, err, want)
		}
	}
}
