package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gcpEnv is an env whose getenv answers from vars, writing stdout to out.
func gcpEnv(out *bytes.Buffer, vars map[string]string) env {
	return env{stdout: out, stderr: out, getenv: func(k string) string { return vars[k] }}
}

// TestGCPFailureKeepsItsCauseWhenTheOutputFileFails checks that when a call already failed
// and the output file cannot be written either, the response and the returned error are the
// call's own failure, not the output file's.
// Guards against: gcpexecutable.go:write error replaces callErr even when callErr is set
func TestGCPFailureKeepsItsCauseWhenTheOutputFileFails(t *testing.T) {
	var out bytes.Buffer
	bad := filepath.Join(t.TempDir(), "missing", "out.json")
	e := gcpEnv(&out, map[string]string{envGoogleOutputFile: bad})
	callErr := usagef("the call failed")
	err := printGCPExecutable(e, callErr, gcpExecutableResponse{})
	var resp gcpExecutableResponse
	if jerr := json.Unmarshal(out.Bytes(), &resp); jerr != nil {
		t.Fatalf("stdout %q: %v", out.String(), jerr)
	}
	if err != callErr || resp.Code != "usage_error" || resp.Message != "the call failed" {
		t.Errorf("printGCPExecutable = %v, response %+v; want the call's usage error", err, resp)
	}
}

// TestGCPOutputFileLeavesNoTemporaryFile checks that writing the output file leaves only
// that file in its directory: the temporary file it was written through is renamed or removed.
// Guards against: gcpexecutable.go:defer os.Remove(f.Name()) dropped (on a failed rename)
func TestGCPOutputFileLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	// A directory in the output file's place makes the rename fail after the write.
	target := filepath.Join(dir, "out.json")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeGCPResponse(target, notCached); err == nil {
		t.Fatal("writeGCPResponse over a non-empty directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if ent.Name() != "out.json" {
			t.Errorf("left behind %s", ent.Name())
		}
	}
}

// TestGCPOutputFilePathIsTrimmed checks that the output file named with surrounding spaces
// is written at the trimmed path.
// Guards against: gcpexecutable.go:strings.TrimSpace dropped on the output file's path
func TestGCPOutputFilePathIsTrimmed(t *testing.T) {
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "out.json")
	e := gcpEnv(&out, map[string]string{envGoogleOutputFile: " " + path + " "})
	ok := gcpExecutableResponse{Version: 1, Success: true}
	if err := printGCPExecutable(e, nil, ok); err != nil {
		t.Fatalf("printGCPExecutable: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), "not_cached") {
		t.Errorf("output file %s: %q, %v; want the not_cached response", path, data, err)
	}
}
