package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"golang.org/x/oauth2/google/externalaccount"
)

const testGCPProvider = "projects/1/locations/global/workloadIdentityPools/p/providers/broker"

// workerRun starts a broker on the embedded default and creates a TRACKED run of demo-stack;
// finish ends that run.
func workerRun(t *testing.T) (d *daemon, runToken string, finish func()) {
	t.Helper()
	d = startDaemon(t)
	m := adminKeyLine.FindStringSubmatch(d.stderr.String())
	if m == nil {
		t.Fatalf("no bootstrap admin key on stderr:\n%s", d.stderr.String())
	}
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: m[1], body: `{"stack":"demo-stack","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create run: %d", code)
	}
	return d, created.RunToken, func() {
		t.Helper()
		if code := d.post(t, request{path: "/v1/runs/" + created.Run.ID + "/finish", bearer: m[1]}); code != 200 {
			t.Fatalf("finish: %d", code)
		}
	}
}

// googleToken runs Google's own executable-sourced credentials, with broker as the executable,
// against a Google STS emulator trusting d; it returns the library's error, if any.
func googleToken(t *testing.T, stsURL, outputFile string, args ...string) error {
	t.Helper()
	return googleTokenOfType(t, googleConfig{tokenType: gcpTokenTypeJWT, stsURL: stsURL, outputFile: outputFile}, args...)
}

// googleConfig is what googleTokenOfType puts in the configuration of Google's library: its
// subject_token_type, the STS emulator's URL and its executable's output_file ("" for none).
type googleConfig struct {
	tokenType, stsURL, outputFile string
}

// googleTokenOfType is googleToken with a chosen subject_token_type: it runs Google's library
// configured by cfg, with broker token --format gcp-executable plus args as the executable, and
// returns the library's error, if any.
func googleTokenOfType(t *testing.T, cfg googleConfig, args ...string) error {
	t.Helper()
	lib := externalaccount.Config{
		Audience:         "//iam.googleapis.com/" + testGCPProvider,
		SubjectTokenType: cfg.tokenType,
		TokenURL:         cfg.stsURL + "/v1/token",
		Scopes:           []string{"https://www.googleapis.com/auth/cloud-platform"},
		CredentialSource: &externalaccount.CredentialSource{Executable: &externalaccount.ExecutableConfig{
			Command:    strings.Join(append([]string{brokerBin, "token", "--format", "gcp-executable"}, args...), " "),
			OutputFile: cfg.outputFile,
		}},
	}
	ts, err := externalaccount.NewTokenSource(context.Background(), lib)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err == nil && tok.AccessToken == "" {
		t.Fatal("no access token and no error")
	}
	return err
}

// gcpFixture is a broker run and a Google STS emulator trusting its broker, with the
// environment Google's library and broker's executable read.
type gcpFixture struct {
	d        *daemon
	emu      *gcpemu.Emulator
	stsURL   string
	runToken string
	finish   func()
}

func newGCPFixture(t *testing.T) *gcpFixture {
	t.Helper()
	d, runToken, finish := workerRun(t)
	emu := gcpemu.New(gcpemu.Config{Providers: []gcpemu.Provider{{Name: testGCPProvider, Issuer: d.url}}})
	sts := httptest.NewServer(emu)
	t.Cleanup(sts.Close)
	t.Setenv("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1")
	t.Setenv("BROKER_URL", d.url)
	t.Setenv("BROKER_RUN_TOKEN", runToken)
	return &gcpFixture{d: d, emu: emu, stsURL: sts.URL, runToken: runToken, finish: finish}
}

func (f *gcpFixture) lastSTS(t *testing.T) gcpemu.Call {
	t.Helper()
	calls := f.emu.Calls()
	if len(calls) == 0 {
		t.Fatal("the library never reached STS")
	}
	return calls[len(calls)-1]
}

// explicitAudience names the provider on the command line, for the tests that are not about
// where the audience comes from.
var explicitAudience = []string{"--audience", "//iam.googleapis.com/" + testGCPProvider}

// TestGCPExecutableTakesGoogleLibraryAudience: without --audience, the token carries the
// audience Google's library passes in GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE, so STS accepts it; an
// explicit --audience still wins.
func TestGCPExecutableTakesGoogleLibraryAudience(t *testing.T) {
	f := newGCPFixture(t)
	if err := googleToken(t, f.stsURL, ""); err != nil {
		t.Fatalf("library's audience: %v", err)
	}
	if c := f.lastSTS(t); c.Outcome != gcpemu.OutcomeOK || c.Provider != testGCPProvider {
		t.Errorf("STS call %+v", c)
	}
	if err := googleToken(t, f.stsURL, "", "--audience", "sts.amazonaws.com"); err == nil || f.lastSTS(t).Outcome != "invalid_grant" {
		t.Errorf("--audience did not take precedence: err %v, STS %+v", err, f.lastSTS(t))
	}
}

// TestGCPExecutableWritesOutputFile: with an output_file, broker writes its response there,
// readable by its owner only, and the library reuses it: with a run token that no longer works,
// the cached token still serves.
func TestGCPExecutableWritesOutputFile(t *testing.T) {
	f := newGCPFixture(t)
	cache := filepath.Join(t.TempDir(), "gcp-cache.json")
	if err := googleToken(t, f.stsURL, cache, explicitAudience...); err != nil {
		t.Fatalf("with an output file: %v", err)
	}
	fi, err := os.Stat(cache)
	if err != nil {
		t.Fatalf("output file not written: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("output file mode %v, want 0600", fi.Mode().Perm())
	}
	var cached gcpExecutableResponse
	if data, _ := os.ReadFile(cache); jsonUnmarshal(string(data), &cached) != nil || !cached.Success || cached.IDToken == "" || cached.ExpirationTime == 0 {
		t.Fatalf("output file holds success %v, token_type %q, a token %v, expiration %d", cached.Success, cached.TokenType, cached.IDToken != "", cached.ExpirationTime)
	}
	calls := len(f.emu.Calls())
	t.Setenv("BROKER_RUN_TOKEN", "not-a-run-token")
	if err := googleToken(t, f.stsURL, cache, explicitAudience...); err != nil {
		t.Errorf("the cached response was not used: %v", err)
	}
	if len(f.emu.Calls()) != calls+1 || f.lastSTS(t).Outcome != gcpemu.OutcomeOK {
		t.Errorf("STS calls after the cached exchange: %+v", f.emu.Calls()[calls:])
	}

	// An output file broker cannot write is a failure the library shows, not a silent miss.
	t.Setenv("BROKER_RUN_TOKEN", f.runToken)
	unwritable := filepath.Join(t.TempDir(), "missing-dir", "cache.json")
	if err := googleToken(t, f.stsURL, unwritable, explicitAudience...); err == nil || !strings.Contains(err.Error(), "cannot write the output file") {
		t.Errorf("unwritable output file, library's error: %v", err)
	}

	// A failure replaces the cached token, so no stale token stays on disk.
	t.Setenv("BROKER_RUN_TOKEN", "not-a-run-token")
	r := broker(t, []string{"GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE=" + cache}, append([]string{"token", "--format", "gcp-executable"}, explicitAudience...)...)
	var failed gcpExecutableResponse
	if data, _ := os.ReadFile(cache); jsonUnmarshal(string(data), &failed) != nil || failed.Success || failed.IDToken != "" || failed.Code != "unauthenticated" || r.code != 1 {
		t.Errorf("after a failure (exit %d) the output file holds success %v, a token %v, code %q", r.code, failed.Success, failed.IDToken != "", failed.Code)
	}
}

// TestGCPExecutableFailureReachesGoogleLibrary: for a finished run, the error Google's library
// returns carries broker's reason, with or without an output file, and the failure replaces the
// cached token.
func TestGCPExecutableFailureReachesGoogleLibrary(t *testing.T) {
	f := newGCPFixture(t)
	cache := filepath.Join(t.TempDir(), "gcp-cache.json")
	if err := os.WriteFile(cache, []byte(`{"version":1,"success":true,"token_type":"urn:ietf:params:oauth:token-type:jwt","id_token":"stale","expiration_time":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f.finish()
	for _, output := range []string{"", cache} {
		err := googleToken(t, f.stsURL, output, explicitAudience...)
		if err == nil || !strings.Contains(err.Error(), "run has finished or expired") || !strings.Contains(err.Error(), "unauthenticated") {
			t.Errorf("finished run, output file %q, library's error: %v", output, err)
		}
	}
	var failed gcpExecutableResponse
	if data, _ := os.ReadFile(cache); jsonUnmarshal(string(data), &failed) != nil || failed.Success || failed.IDToken != "" || failed.Code != "unauthenticated" {
		t.Errorf("output file after a failure holds success %v, a token %v, code %q", failed.Success, failed.IDToken != "", failed.Code)
	}
	// Run as a Google library runs it: the failure shape on stdout, the reason on stderr too.
	r := broker(t, []string{"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=//iam.googleapis.com/" + testGCPProvider}, "token", "--format", "gcp-executable")
	if r.code != 0 || !strings.Contains(r.stdout, `"success":false`) || !strings.Contains(r.stderr, "run has finished or expired") {
		t.Errorf("failure under a Google library: %+v", r)
	}
	if strings.Contains(f.d.stderr.String(), f.runToken) {
		t.Error("server logs hold the run token")
	}
}

// TestGCPExecutableAnswersTheLibraryTokenType: broker answers with the subject token type the
// configuration names when a broker token can be one (jwt, id_token), and refuses saml2 with a
// reason the library shows, before minting anything.
func TestGCPExecutableAnswersTheLibraryTokenType(t *testing.T) {
	f := newGCPFixture(t)
	cache := filepath.Join(t.TempDir(), "gcp-cache.json")
	for _, tokenType := range []string{gcpTokenTypeJWT, gcpTokenTypeIDToken} {
		os.Remove(cache)
		if err := googleTokenOfType(t, googleConfig{tokenType: tokenType, stsURL: f.stsURL, outputFile: cache}); err != nil {
			t.Fatalf("%s: %v", tokenType, err)
		}
		var resp gcpExecutableResponse
		if data, _ := os.ReadFile(cache); jsonUnmarshal(string(data), &resp) != nil || resp.TokenType != tokenType {
			t.Errorf("asked %s, answered token_type %q", tokenType, resp.TokenType)
		}
	}
	calls := len(f.emu.Calls())
	os.Remove(cache)
	err := googleTokenOfType(t, googleConfig{tokenType: "urn:ietf:params:oauth:token-type:saml2", stsURL: f.stsURL, outputFile: cache})
	if err == nil || !strings.Contains(err.Error(), "broker's token is a JWT") {
		t.Errorf("saml2, library's error: %v", err)
	}
	if len(f.emu.Calls()) != calls {
		t.Errorf("a saml2 configuration reached STS: %+v", f.emu.Calls()[calls:])
	}
}

// TestGCPExecutableMissingEnvironmentReachesGoogleLibrary: a caller that does not pass
// BROKER_URL on to Google's library gets that reason in the library's error, not an exit code;
// run by hand, it is still a usage error (exit 2).
func TestGCPExecutableMissingEnvironmentReachesGoogleLibrary(t *testing.T) {
	f := newGCPFixture(t)
	t.Setenv("BROKER_URL", "")
	err := googleToken(t, f.stsURL, "", explicitAudience...)
	if err == nil || !strings.Contains(err.Error(), "BROKER_URL is not set") || !strings.Contains(err.Error(), "usage_error") {
		t.Errorf("library's error: %v", err)
	}
	if r := broker(t, nil, "token", "--format", "gcp-executable"); r.code != 2 || !strings.Contains(r.stdout, `"success":false`) || !strings.Contains(r.stderr, "BROKER_URL") {
		t.Errorf("by hand: %+v", r)
	}
}
