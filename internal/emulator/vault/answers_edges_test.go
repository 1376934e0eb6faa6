package vaultemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// serveOnce sends a request straight to h and returns the recorder.
func serveOnce(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

// TestPathOutsideV1IsNotFound pins that a path outside /v1/ is answered 404 with an
// empty error list ({"errors":[]}, never null) and is not routed as an API path, and that every
// answer forbids caching.
// Guards against: emulator.go:ServeHTTP path outside /v1/ routed on instead of 404
// Guards against: emulator.go:writeErrors nil messages left null
// Guards against: emulator.go:writeJSON Cache-Control header dropped
func TestPathOutsideV1IsNotFound(t *testing.T) {
	emu := New(Config{})
	for _, path := range []string{"/healthz", "/auth/token/lookup-self"} {
		rec := serveOnce(emu, http.MethodGet, path, "")
		body := strings.TrimSpace(rec.Body.String())
		if rec.Code != http.StatusNotFound || body != `{"errors":[]}` {
			t.Errorf("GET %s = %d %s, want 404 {\"errors\":[]}", path, rec.Code, rec.Body)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s Cache-Control %q, want no-store", path, got)
		}
	}
}

// TestLoginIdsAreVersion4UUIDs pins that a login answer's request_id and entity_id are
// random version 4 UUIDs in their canonical form, as Vault's are.
// Guards against: emulator.go:newUUID version and variant bits not set
func TestLoginIdsAreVersion4UUIDs(t *testing.T) {
	f := newFixture(t)
	uuid4 := regexp.MustCompile(
		`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for range 8 { // one random UUID in 16 has the bits right by chance; eight in a row never
		status, body := f.login(t, map[string]any{"role": "demo",
			"jwt": f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
		if status != http.StatusOK {
			t.Fatalf("login: %d %v", status, body)
		}
		rid, _ := body["request_id"].(string)
		eid, _ := body["auth"].(map[string]any)["entity_id"].(string)
		if !uuid4.MatchString(rid) || !uuid4.MatchString(eid) {
			t.Fatalf("request_id %q, entity_id %q: want version 4 UUIDs", rid, eid)
		}
	}
}

// TestWhitespaceLoginBodyIsEmpty pins that a login body of only white space is read as
// no parameters (400 "missing role"), not as malformed JSON.
// Guards against: field.go:readLogin body not trimmed before the emptiness check
func TestWhitespaceLoginBodyIsEmpty(t *testing.T) {
	rec := serveOnce(newFixtureEmulator(), http.MethodPost, "/v1/auth/jwt/login", " \n\t ")
	if rec.Code != http.StatusBadRequest ||
		strings.TrimSpace(rec.Body.String()) != `{"errors":["missing role"]}` {
		t.Errorf("login with a white-space body = %d %s, want 400 missing role", rec.Code, rec.Body)
	}
}

// newFixtureEmulator is an emulator with one "jwt" mount and no roles.
func newFixtureEmulator() *Emulator {
	return New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: "https://issuer.example"}}})
}

// TestNullExpIsRefusedAsNoExp pins that a token whose exp is null is refused 400 as one
// without an expiration time.
// Guards against: login.go:tokenProblem "no exp claim" branch dropped
func TestNullExpIsRefusedAsNoExp(t *testing.T) {
	f := newFixture(t)
	claims := runClaims(nil)
	claims["exp"] = nil // kept as null: Sign fills in only absent claims
	status, body := f.login(t, map[string]any{"role": "demo",
		"jwt": f.iss.Sign(t, oidctest.Token{Claims: claims})})
	want := "error validating token: no expiration time (exp) claim in token"
	if status != http.StatusBadRequest || !errorsAre(body, want) {
		t.Errorf("login with exp null = %d %v, want 400 %q", status, body, want)
	}
}

// TestLookupSelfDescribesTheToken pins lookup-self's description of a token: its creation
// and expiry times (Unix seconds and RFC 3339), display name "<mount>-<role>", metadata, an
// orphan service token, as the login that issued it said; and a bearer read with the space
// around it trimmed.
// Guards against: lookup.go:lookupSelf creation_time not the issue time
// Guards against: lookup.go:lookupSelf display_name without the mount
// Guards against: lookup.go:lookupSelf expire_time not issue time plus TTL
// Guards against: lookup.go:lookupSelf issue_time empty
// Guards against: lookup.go:lookupSelf meta dropped
// Guards against: lookup.go:lookupSelf type other than service; orphan false
// Guards against: lookup.go:denied bearer token not trimmed
// Guards against: login.go:login auth.orphan false
func TestLookupSelfDescribesTheToken(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	e := New(Config{Now: func() time.Time { return at }})
	e.tokens["hvs.known"] = issued{accessor: "acc", role: "demo", mount: "jwt", user: "demo",
		policies: []string{"default"}, meta: map[string]string{"role": "demo"}, issuedAt: at,
		ttl: 30 * time.Minute}
	req := httptest.NewRequest(http.MethodGet, "/v1/auth/token/lookup-self", nil)
	req.Header.Set("Authorization", "Bearer   hvs.known")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var self struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &self); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("lookup-self: %d %s", rec.Code, rec.Body)
	}
	meta, _ := self.Data["meta"].(map[string]any)
	d := self.Data
	if d["creation_time"] != float64(at.Unix()) || d["display_name"] != "jwt-demo" ||
		d["expire_time"] != "2026-03-04T05:36:07Z" || d["issue_time"] != "2026-03-04T05:06:07Z" ||
		meta["role"] != "demo" || d["type"] != "service" || d["orphan"] != true {
		t.Errorf("lookup-self data = %v", d)
	}
	f := newFixture(t)
	_, body := f.login(t, map[string]any{"role": "demo",
		"jwt": f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	if auth, _ := body["auth"].(map[string]any); auth["orphan"] != true {
		t.Errorf("login auth = %v, want an orphan token", auth)
	}
}
