package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// audienceRecordingServer answers every token request with a valid token and records the audience
// each request asked for.
func audienceRecordingServer(t *testing.T, asked *[]string) string {
	t.Helper()
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Audience string }
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		*asked = append(*asked, req.Audience)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token":"eyJh.eyJi.c2ln","expiresAt":"2030-01-01T00:00:00Z"}`))
	}))
	t.Cleanup(ts.Close)
	// The test reads asked after the command ends, when every request has been answered.
	return ts.URL
}

// TestGCPLibraryAudienceIsTrimmed checks that the audience Google's library passes in
// GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE is asked for without the blanks around it.
// Guards against: strings.TrimSpace dropped on GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE in runGCPExecutable
func TestGCPLibraryAudienceIsTrimmed(t *testing.T) {
	const aud = "//iam.googleapis.com/" + testGCPProvider
	var asked []string
	vars := map[string]string{"BROKER_URL": audienceRecordingServer(t, &asked),
		"BROKER_RUN_TOKEN": "brk_run_x", envGoogleAudience: " " + aud + "\n"}
	r := runCLI(vars, "token", "--format", "gcp-executable")
	if r.code != exitOK || len(asked) != 1 || asked[0] != aud {
		t.Errorf("exit %d, audiences asked %q; want 0 and exactly %q", r.code, asked, aud)
	}
}

// TestGCPBlankAudienceIsNotALibrary checks that a failure is reported as a failure (its
// error returned, so the command exits non-zero) when GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE holds
// only blanks: only a set audience means a Google library runs broker.
// Guards against: strings.TrimSpace dropped on the audience in printGCPExecutable's exit decision
func TestGCPBlankAudienceIsNotALibrary(t *testing.T) {
	var out bytes.Buffer
	e := gcpEnv(&out, map[string]string{envGoogleAudience: " \t"})
	callErr := errors.New("the call failed")
	if err := printGCPExecutable(e, callErr, gcpExecutableResponse{}); err != callErr {
		t.Errorf("printGCPExecutable with a blank audience = %v, want the call's error", err)
	}
}

// TestGCPOutputFileWrittenInItsDirectory checks that the output file is written through
// a temporary file in its own directory (so the rename is atomic and on one file system), not
// in the system's temporary directory: with TMPDIR unusable the write still succeeds.
// Guards against: os.CreateTemp("", ...) instead of os.CreateTemp(filepath.Dir(path), ...)
func TestGCPOutputFileWrittenInItsDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", filepath.Join(dir, "no-such-tmp"))
	path := filepath.Join(dir, "out.json")
	if err := writeGCPResponse(path, notCached); err != nil {
		t.Fatalf("writeGCPResponse: %v", err)
	}
	var got gcpExecutableResponse
	if data, err := os.ReadFile(path); err != nil || json.Unmarshal(data, &got) != nil ||
		got.Code != "not_cached" {
		t.Errorf("output file holds %+v (%v), want the not_cached response", got, err)
	}
}
