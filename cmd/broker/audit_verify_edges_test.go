package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestAuditVerifyFailsOnUnanchoredOldEvents pins that `broker audit verify` fails (exit 1, nothing
// reported intact) when events older than the checkpoint interval follow the latest checkpoint that
// verifies (checkpoints removed, or their signatures replaced), and that with a JWKS that does not
// publish the checkpoints' key the failure names that key.
// Guards against: audit.go:68 `if errors.Is(err, audit.ErrUnanchored) { return unpublishedNote(err,
// r) }` -> print the report and return nil
// Guards against: audit_anchor.go:188 unpublishedNote returning nil (or dropping the note) when no
// checkpoint past the latest is unpublished
func TestAuditVerifyFailsOnUnanchoredOldEvents(t *testing.T) {
	emptyJWKS := writeFile(t, "jwks.json", `{"keys":[]}`)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		// The checkpoint at #501 verifies; the 99 events after it are two hours old.
		{"old events past the latest checkpoint", nil, []string{"is covered by no checkpoint that verifies"}},
		// No checkpoint verifies: the failure says which key the JWKS lacks.
		{"a JWKS without the checkpoints' key", []string{"--jwks", emptyJWKS},
			[]string{"is covered by no checkpoint that verifies", "signed by keys the JWKS does not publish (k1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTrailServer(t, 600)
			s.at = time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339Nano)
			stdout, _, err := verifyAgainst(s, tc.args...)
			if err == nil || !errors.Is(err, audit.ErrUnanchored) || strings.Contains(stdout, "intact") {
				t.Fatalf("verify = %v, stdout %q; want the schedule's failure and nothing reported intact", err, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if r := runCLI(map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}, append([]string{"audit", "verify"}, tc.args...)...); r.code != exitError {
				t.Errorf("exit %d, want %d", r.code, exitError)
			}
		})
	}
}

// TestAuditVerifyStopsOnARepeatedNextPage pins that a listing whose pages hold events but name the
// same next page again fails at once ("does not move on") instead of listing forever.
// Guards against: audit.go:118 `case len(events) == 0 || page.Next == after:` -> `case len(events)
// == 0:`
func TestAuditVerifyStopsOnARepeatedNextPage(t *testing.T) {
	s := newTrailServer(t, 3)
	var pages atomic.Int32
	s.mangle = func(b []byte) []byte {
		pages.Add(1)
		// Every page names the page "again" next; the server serves the first page for it.
		return bytes.Replace(b, []byte(`"next":""`), []byte(`"next":"again"`), 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	vars := map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}
	err := runAudit(ctx, env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, []string{"verify"})
	if err == nil || !strings.Contains(err.Error(), "does not move on") || pages.Load() > 2 {
		t.Errorf("verify = %v after %d pages; want %q at the second page", err, pages.Load(), "does not move on")
	}
}

// TestAuditVerifyRefusesANonPositiveSchedule pins that --checkpoint-every below 1 and a
// --checkpoint-interval of zero or less are usage errors (exit 2), not silently the defaults.
// Guards against: audit.go:54 `*every < 1` -> `*every < 0`; `*interval <= 0` -> `*interval < 0`
func TestAuditVerifyRefusesANonPositiveSchedule(t *testing.T) {
	s := newTrailServer(t, 3)
	for _, args := range [][]string{
		{"--checkpoint-every", "0"},
		{"--checkpoint-every", "-3"},
		{"--checkpoint-interval", "0s"},
		{"--checkpoint-interval", "-1m"},
	} {
		r := runCLI(map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}, append([]string{"audit", "verify"}, args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "must be positive") || strings.Contains(r.stdout, "intact") {
			t.Errorf("%v: %+v; want exit %d and the rule", args, r, exitUsage)
		}
	}
}

// TestAuditVerifyNeedsTheIssuerFromDiscovery pins that a discovery document without an issuer (or
// without a jwks_uri) is refused: the checkpoints' signatures are bound to the issuer.
// Guards against: audit_anchor.go:31 `disc.Issuer == "" || disc.JWKSURI == ""` -> `disc.JWKSURI ==
// ""`
func TestAuditVerifyNeedsTheIssuerFromDiscovery(t *testing.T) {
	for _, tc := range []struct{ name, disc string }{
		{"no issuer", `{"jwks_uri":"%s/jwks"}`},
		{"empty issuer", `{"issuer":"","jwks_uri":"%s/jwks"}`},
		{"no jwks_uri", `{"issuer":"%s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/.well-known/openid-configuration":
					w.Write([]byte(strings.ReplaceAll(tc.disc, "%s", srv.URL)))
				case "/jwks":
					w.Write([]byte(`{"keys":[]}`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			_, err := anchorConfig(context.Background(), srv.Client(), srv.URL, "")
			if err == nil || !strings.Contains(err.Error(), "discovery names no issuer or jwks_uri") {
				t.Errorf("anchorConfig = %v, want the discovery refused", err)
			}
		})
	}
}

// TestReadStateRefusesAFileThatIsNoState pins that a --state file this command did not save (valid
// JSON without an issuer: {}, null, another tool's document, or a state with a tail longer than a
// SHA-256) is refused rather than taken as an empty trail — which would skip the truncation check
// and then overwrite the file.
// Guards against: audit_anchor.go:109 `err != nil || s.Issuer == ""` -> `err != nil`
// Guards against: audit_anchor.go:135 `len(s) != 2*sha256.Size` -> `len(s) < 2*sha256.Size`
func TestReadStateRefusesAFileThatIsNoState(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct{ name, content string }{
		{"an empty object", `{}`},
		{"null", `null`},
		{"a JWKS", `{"keys":[]}`},
		{"a state without its issuer", `{"count":0,"tail":""}`},
		{"a tail longer than a SHA-256", `{"issuer":"http://b","count":3,"tail":"` + hash + `0"}`},
		{"a tail twice a SHA-256", `{"issuer":"http://b","count":3,"tail":"` + hash + hash + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "state.json", tc.content)
			s, err := readState(path)
			if err == nil || !strings.Contains(err.Error(), "is not a state this command saved") || !strings.Contains(err.Error(), path) {
				t.Errorf("readState(%s) = %+v, %v; want it refused naming %s", tc.content, s, err, path)
			}
		})
	}
}
