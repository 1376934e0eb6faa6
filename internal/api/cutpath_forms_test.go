package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestCutPathSecretForms: realistic pastes of a file-declared key's secret into a path (decoded)
// reach no log line: with a line end, as a pasted header line, quoted or bracketed, amid
// query-like text.
// Guards against: mux.go:hardSeparators leaving out control characters and brackets
// Guards against: mux.go:secretIn not asking the pieces between consecutive separators
func TestCutPathSecretForms(t *testing.T) {
	const secret = "s3cr3t-key"
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == secret })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	for _, p := range []string{
		"/v1/runs/" + secret + "\n",                         // <secret>%0A
		"/v1/runs/" + secret + "\r\n",                       // <secret>%0D%0A
		"/v1/runs/Authorization: Bearer " + secret + "\r\n", // a pasted header line
		"/v1/runs/`" + secret + "`",                         // markdown-quoted
		"/v1/runs/<" + secret + ">",                         // angle brackets
		"/v1/runs/[" + secret + "]",                         // JSON array / brackets
		"/v1/runs/token=x&key=" + secret + "&a=b&c=d",       // query-like text
	} {
		if got := rt.CutPath(p); strings.Contains(got, secret) {
			t.Errorf("CutPath(%q) = %q: the secret reaches the log line", p, got)
		}
	}
}

// TestCutPathBase64SlashSecret: a base64 secret (its alphabet holds '/') beside other text
// ("Bearer <secret>", "<secret>.json", a store error naming it) reaches no log line.
// Guards against: mux.go:cutSpanning not asking a token that spans segments beside other text
func TestCutPathBase64SlashSecret(t *testing.T) {
	const secret = "q3Zx/oPq456="
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == secret })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	for _, p := range []string{
		"/v1/runs/" + secret,           // found (joined segments)
		"/v1/runs/Bearer " + secret,    // missed
		"/v1/runs/" + secret + ".json", // missed? ('=' is soft)
		"get run Bearer " + secret + ": not found",
	} {
		if got := rt.CutPath(p); strings.Contains(got, "q3Zx") || strings.Contains(got, "oPq456") {
			t.Errorf("CutPath(%q) = %q: part of the secret reaches the log line", p, got)
		}
	}
}

// TestCutPathOddInput: no panic and sane output on odd input (empty, separators only, the mark,
// invalid UTF-8, a long run of separators); a token too long to ask its parts is cut whole.
// Guards against: mux.go:secretIn asking the parts of any token, however long
func TestCutPathOddInput(t *testing.T) {
	rt := NewRouter()
	rt.CutSecrets(func(s string) bool { return s == "k" || s == "é" })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct{ in, want string }{
		{"/v1/runs/", "/v1/runs/"},
		{"/v1/runs/...", "/v1/runs/..."},
		{"/v1/runs/::==", "/v1/runs/::=="},
		{"/v1/runs/  ", "/v1/runs/  "},
		{"/v1/runs/…", "/v1/runs/…"},
		{"/v1/runs/a…k", "/v1/runs/a……"},
		{"/v1/runs/\xff\xfe k", "/v1/runs/\xff\xfe …"},
		{"/v1/runs/x.é.y", "/v1/runs/x.….y"},
		{"/v1/runs/\xe2\x80", "/v1/runs/\xe2\x80"},
		{"/v1/runs/" + strings.Repeat(".", 100000), "/v1/runs/" + strings.Repeat(".", 100000)},
		{"/v1/runs/" + strings.Repeat("a.", 200), "/v1/runs/…"}, // too long to ask its parts: cut whole
	} {
		if got := rt.CutPath(tc.in); got != tc.want {
			g, w := got, tc.want
			if len(g) > 60 {
				g = g[:60]
			}
			if len(w) > 60 {
				w = w[:60]
			}
			t.Errorf("CutPath(%q) = %q, want %q", tc.in[:min(len(tc.in), 60)], g, w)
		}
	}
}

// TestCutPathOfALongTokenAsksLittle: a path whose segment is one long token of separators and
// text (60,000 dots and a letter, under net/http's header bound) is cut whole after one look-up
// of the segment and one of the token, not by asking its parts: the log line of any request costs
// CutPath time linear in its path.
// Guards against: mux.go:secretIn asking parts of a token longer than maxPartsToken
func TestCutPathOfALongTokenAsksLittle(t *testing.T) {
	rt := NewRouter()
	asked := 0
	rt.CutSecrets(func(string) bool { asked++; return false })
	rt.HandleFunc("GET /v1/runs/{id}", func(w http.ResponseWriter, r *http.Request) {})
	if got := rt.CutPath("/v1/runs/" + strings.Repeat(".", 60000) + "x"); got != "/v1/runs/…" || asked > 2 {
		t.Errorf("CutPath of a 60,001-byte token: %.40q after %d look-ups, want cut whole after at most 2", got, asked)
	}
}
