package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"golang.org/x/oauth2/google/externalaccount"
)

const testGCPProvider = "projects/1/locations/global/workloadIdentityPools/pool/providers/broker"

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

// TestGCPExecutableWritesOutputFile: with an output_file, broker writes there, readable by its
// owner only, a response the library never reuses and no token: with a run token that no
// longer works, the library runs broker again and gets its refusal.
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
	// The file holds no token, and nothing the library reuses: it runs broker each time.
	var cached gcpExecutableResponse
	if data, _ := os.ReadFile(cache); jsonUnmarshal(string(data), &cached) != nil || cached.Success || cached.IDToken != "" || cached.Code != "not_cached" {
		t.Fatalf("output file holds success %v, a token %v, code %q", cached.Success, cached.IDToken != "", cached.Code)
	}
	calls := len(f.emu.Calls())
	t.Setenv("BROKER_RUN_TOKEN", "not-a-run-token")
	if err := googleToken(t, f.stsURL, cache, explicitAudience...); err == nil || !strings.Contains(err.Error(), "unauthenticated") {
		t.Errorf("with the run token gone, the library's error: %v, want broker's refusal", err)
	}
	if len(f.emu.Calls()) != calls {
		t.Errorf("STS calls after the run token went: %+v", f.emu.Calls()[calls:])
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
	// Run as a Google library runs it: the failure shape on stdout, with the reason, and
	// nothing on stderr, which Google's Python library reads as part of one JSON document.
	r := broker(t, []string{"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=//iam.googleapis.com/" + testGCPProvider}, "token", "--format", "gcp-executable")
	if r.code != 0 || !strings.Contains(r.stdout, `"success":false`) || !strings.Contains(r.stdout, "run has finished or expired") || r.stderr != "" {
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
		r := broker(t, []string{"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=//iam.googleapis.com/" + testGCPProvider,
			"GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE=" + tokenType}, "token", "--format", "gcp-executable")
		var resp gcpExecutableResponse
		if jsonUnmarshal(r.stdout, &resp) != nil || resp.TokenType != tokenType {
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

// daemonRun starts a run of demo-stack on d with the bootstrap admin key and returns its run
// token and a function moving it to a phase.
func daemonRun(t *testing.T, d *daemon, runType string) (runToken string, phase func(string)) {
	t.Helper()
	m := adminKeyLine.FindStringSubmatch(d.stderr.String())
	if m == nil {
		t.Fatal("no bootstrap admin key")
	}
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: m[1], body: `{"stack":"demo-stack","runType":"` + runType + `"}`, out: &created}); code != 201 {
		t.Fatalf("create run: %d", code)
	}
	return created.RunToken, func(p string) {
		t.Helper()
		if code := d.post(t, request{path: "/v1/runs/" + created.Run.ID + "/phase", bearer: m[1], body: `{"phase":"` + p + `"}`}); code != 200 {
			t.Fatalf("phase %s: %d", p, code)
		}
	}
}

// TestGCPExecutableOutputFileKeepsNoScope: Google's library, given an output_file (as Google's
// create-cred-config suggests, one path for every run of a worker), presents to Google STS a
// token of the run's scope when it asks: write once a run moved from its plan to its apply,
// and read for a proposed run after a tracked run's apply on the same worker.
func TestGCPExecutableOutputFileKeepsNoScope(t *testing.T) {
	d := startDaemon(t)
	emu := gcpemu.New(gcpemu.Config{Providers: []gcpemu.Provider{{Name: testGCPProvider, Issuer: d.url}}})
	sts := httptest.NewServer(emu)
	t.Cleanup(sts.Close)
	t.Setenv("GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES", "1")
	t.Setenv("BROKER_URL", d.url)
	cache := filepath.Join(t.TempDir(), "output.json")
	presented := func(want string) {
		t.Helper()
		if err := googleToken(t, sts.URL, cache); err != nil {
			t.Fatal(err)
		}
		calls := emu.Calls()
		if sub := calls[len(calls)-1].Subject; !strings.Contains(sub, want) {
			t.Errorf("Google STS was given subject %q, want one with %q", sub, want)
		}
	}
	tracked, phase := daemonRun(t, d, "TRACKED")
	t.Setenv("BROKER_RUN_TOKEN", tracked)
	phase("PLANNING")
	presented(":run_type:TRACKED:scope:read")
	phase("APPLYING")
	presented(":run_type:TRACKED:scope:write")
	phase("FINISHED")
	proposed, _ := daemonRun(t, d, "PROPOSED")
	t.Setenv("BROKER_RUN_TOKEN", proposed)
	presented(":run_type:PROPOSED:scope:read")
}

// gcloudPython is the Python of the Google Cloud CLI, whose lib/third_party holds Google's
// Python auth library (google.auth.pluggable: what gcloud and the Python clients run).
const (
	gcloudPython = "/usr/lib/google-cloud-sdk/platform/bundledpythonunix/bin/python3"
	gcloudLib    = "/usr/lib/google-cloud-sdk/lib/third_party"
)

// TestGCPExecutableFailureUnderPythonLibrary: Google's Python library runs the executable with
// stderr merged into stdout and reads the whole as one JSON document; broker's failure, so
// read, is one document, and the real library (from the Google Cloud CLI, when installed)
// shows broker's reason.
func TestGCPExecutableFailureUnderPythonLibrary(t *testing.T) {
	cmd := exec.Command(brokerBin, "token", "--format", "gcp-executable")
	cmd.Env = append(os.Environ(), "BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x",
		"GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=//iam.googleapis.com/"+testGCPProvider,
		"GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE="+gcpTokenTypeJWT, "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0")
	combined, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("exit: %v", err)
	}
	var resp map[string]any
	if err := json.Unmarshal(combined, &resp); err != nil {
		t.Errorf("stdout and stderr together are not one JSON document: %v\n%s", err, combined)
	}
	if _, err := os.Stat(gcloudPython); err != nil {
		t.Skip("skipped the real library: the Google Cloud CLI is not installed")
	}
	dir := t.TempDir()
	cfg := `{"type":"external_account","audience":"//iam.googleapis.com/` + testGCPProvider + `",
 "subject_token_type":"urn:ietf:params:oauth:token-type:jwt","token_url":"http://127.0.0.1:1/v1/token",
 "credential_source":{"executable":{"command":"` + brokerBin + ` token --format gcp-executable","timeout_millis":30000}}}`
	script := `import sys, json
sys.path.insert(0, "` + gcloudLib + `")
from google.auth import pluggable
import google.auth.transport.requests as tr
c = pluggable.Credentials.from_info(json.load(open(sys.argv[1])), scopes=["https://www.googleapis.com/auth/cloud-platform"])
try:
    c.refresh(tr.Request())
except Exception as e:
    print(type(e).__name__, e)
`
	for name, body := range map[string]string{"cfg.json": cfg, "t.py": script} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	py := exec.CommandContext(ctx, gcloudPython, filepath.Join(dir, "t.py"), filepath.Join(dir, "cfg.json"))
	py.Env = append(os.Environ(), "BROKER_URL=http://127.0.0.1:1", "BROKER_RUN_TOKEN=x", "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1")
	out, _ := py.CombinedOutput()
	if !strings.Contains(string(out), "cannot reach broker") {
		t.Errorf("Google's Python library does not show broker's reason; it says: %s", strings.TrimSpace(string(out)))
	}
}
