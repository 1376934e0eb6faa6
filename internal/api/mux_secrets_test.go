package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestRouterCutsSecretsFromRecordedPaths pins Router.CutPath: a path segment the check knows as
// a secret, one holding it between other text ("Bearer <secret>", "<secret>.json"), and a run of
// segments that is one when joined by '/' (a secret holding '/') are cut to a mark, as is any
// brk_ secret; other paths come back as they are; the registered paths' literal segments are
// never asked, so a route of literals alone costs no look-up; past maxSecretLookups every other
// segment is cut unasked.
// Guards against: mux.go:CutPath asking route literals, or missing a secret between other text
// or across segments
func TestRouterCutsSecretsFromRecordedPaths(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	var asked []string
	known := map[string]bool{secret: true, "ab/cd": true, "q3Zx+oPq456=": true, "deploy.key:2026": true}
	rt.CutSecrets(func(s string) bool { asked = append(asked, s); return known[s] })
	for _, p := range []string{"POST /v1/token", "GET /v1/runs/{id}", "GET /v1/runs/{id}/finish"} {
		rt.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {})
	}
	for _, tc := range []struct {
		path, want string
		asked      int
	}{
		{"/v1/token", "/v1/token", 0},
		{"/v1/runs/run-1", "/v1/runs/run-1", 1},
		{"/v1/runs/" + secret, "/v1/runs/…", 1},
		{"/v1/runs/" + secret + "/finish", "/v1/runs/…/finish", 1},
		{"/v1/runs//" + secret, "/v1/runs//…", 1},
		{"/v1/runs/Bearer " + secret, "/v1/runs/Bearer …", -1},
		{"/v1/runs/" + secret + ".json", "/v1/runs/….json", -1},
		{"/v1/runs/ab/cd", "/v1/runs/…", -1},
		{"/v1/runs/brk_run_AbC", "/v1/runs/brk_…", 0},
		{"/v1/runs/brk_run_AbC," + secret, "/v1/runs/brk_…,…", -1},
		{"/v1/runs/" + secret + "…", "/v1/runs/……", -1},
		{"get run " + secret + ": dial tcp 127.0.0.1:1: refused", "get run …: dial tcp 127.0.0.1:1: refused", -1},
		{"/v1/runs/Bearer q3Zx+oPq456=", "/v1/runs/Bearer …", -1},
		{"/v1/runs/deploy.key:2026.json", "/v1/runs/….json", -1},
		{"get run q3Zx+oPq456=: dial tcp 127.0.0.1:1: refused", "get run …: dial tcp 127.0.0.1:1: refused", -1},
		{"x.deploy.key:2026", "x.…", -1},
		{"/v1/" + strings.Repeat("x/", 80) + "end", "/v1/" + strings.Repeat("x/", 80) + "end", -1},
	} {
		asked = nil
		got := rt.CutPath(tc.path)
		if tc.path == "/v1/"+strings.Repeat("x/", 80)+"end" {
			if !strings.Contains(got, "…") || len(asked) > maxSecretLookups {
				t.Errorf("a path of 81 unknown segments: %q after %d look-ups, want cut past %d", got, len(asked), maxSecretLookups)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("CutPath(%q) = %q, want %q", tc.path, got, tc.want)
		}
		if tc.asked >= 0 && len(asked) != tc.asked {
			t.Errorf("CutPath(%q) asked %q, want %d look-ups", tc.path, asked, tc.asked)
		}
	}
}

// TestRouterAnswersSecretsAsAnyID pins that cutting is for the log lines only: a request whose
// path names a key's secret is routed and answered as one naming any other id (the answer may
// not tell the two apart, or anyone could test guesses at secrets), and the audit trail's path,
// an answer too, is the same for both; the log line's path carries the mark.
// Guards against: mux.go:ServeHTTP answering a path holding a secret otherwise than another
func TestRouterAnswersSecretsAsAnyID(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == secret })
	var recorded []string
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		recorded = append(recorded, recordedPath(r), loggedPath(r))
		http.Error(w, "no run "+r.PathValue("id"), http.StatusNotFound)
	})
	h := Instrument(rt, slog.New(slog.DiscardHandler), nil)
	answer := func(id string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/runs/"+id, nil))
		return w.Code, strings.ReplaceAll(w.Body.String(), id, "ID")
	}
	c1, b1 := answer(secret)
	c2, b2 := answer("other-id")
	if c1 != c2 || b1 != b2 {
		t.Errorf("a secret's answer %d %q differs from another id's %d %q", c1, b1, c2, b2)
	}
	// The trail is an answer too (GET /v1/audit): its path is cut of brk_ secrets only, by their
	// form; the log line's is cut of the key's secret.
	want := []string{"/v1/runs/" + secret, "/v1/runs/…", "/v1/runs/other-id", "/v1/runs/other-id"}
	if !slices.Equal(recorded, want) {
		t.Errorf("recorded (trail, log) paths %q, want %q", recorded, want)
	}
}

// TestCutPathOfLiteralsAllocatesNothing: the token endpoint's path, all route literals, is
// recorded as it is with no allocation (the access log writes it on every token).
// Guards against: mux.go:CutPath splitting a path of literals
func TestCutPathOfLiteralsAllocatesNothing(t *testing.T) {
	rt := NewRouter()
	rt.CutSecrets(func(string) bool { return true })
	rt.HandleFunc("POST /v1/token", func(w http.ResponseWriter, r *http.Request) {})
	if n := testing.AllocsPerRun(100, func() { _ = rt.CutPath("/v1/token") }); n != 0 {
		t.Errorf("CutPath(/v1/token) allocates %v times, want 0", n)
	}
}

// TestCutPathKeepsOrdinaryTextWhole: a long error text with no secret in it (Redis Sentinel naming
// five unreachable sentinels) comes back as it is, and past the look-up budget a part is cut
// whole, never out of the middle of another word.
// Guards against: mux.go:cutSegment cutting a piece out of other words, or the budget too small
// for an ordinary error
func TestCutPathKeepsOrdinaryTextWhole(t *testing.T) {
	rt := NewRouter()
	rt.CutSecrets(func(string) bool { return false })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	text := "run store unavailable: redis unavailable: get run 01JEXAMPLE0000000000000000: redis: all sentinels specified in configuration are unreachable: " +
		"dial tcp 10.0.0.11:26379: connect: connection refused; dial tcp 10.0.0.12:26379: connect: connection refused; dial tcp 10.0.0.13:26379: i/o timeout; " +
		"dial tcp 10.0.0.14:26379: connect: connection refused; dial tcp 10.0.0.15:26379: connect: connection refused"
	if got := rt.CutPath(text); got != text {
		t.Errorf("an error text with no secret came back as %q", got)
	}
	long := strings.Repeat("dial tcp 10.0.0.11:26379: connect: connection refused; ", 20)
	for _, word := range strings.FieldsFunc(rt.CutPath(long), func(r rune) bool { return strings.ContainsRune(" ;", r) }) {
		if strings.Contains(word, "…") && word != "…" {
			t.Errorf("past the budget a word was cut in part: %q", word)
		}
	}
}
