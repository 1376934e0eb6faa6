package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"
)

// TestFileKeySecretReplacedEndsItsRuns: a file API key given another secret on a reload (its old
// one leaked, say) takes the runs the old secret started with it, write phases included, as a
// deleted key does; the new secret starts runs that live.
func TestFileKeySecretReplacedEndsItsRuns(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "app-a", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint before the secret is replaced: %d", code)
	}
	old := sha256.Sum256([]byte(adminSecret))
	sum := sha256.Sum256([]byte("replaced-secret"))
	next := *ts.srv.cfg
	next.APIKeys = slices.Clone(next.APIKeys)
	replaced := 0
	for i := range next.APIKeys {
		if next.APIKeys[i].SecretSHA256 == hex.EncodeToString(old[:]) {
			next.APIKeys[i].SecretSHA256 = hex.EncodeToString(sum[:])
			replaced++
		}
	}
	if replaced != 1 {
		t.Fatalf("the file holds %d keys of the test secret, want 1", replaced)
	}
	if err := ts.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, run.RunToken, ""); code != 401 {
		t.Errorf("a run the replaced secret started mints: %d, want 401", code)
	}
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": "app-a", "runType": "TRACKED"}}); code != 401 {
		t.Errorf("the replaced secret starts a run: %d, want 401", code)
	}
	var fresh runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: "replaced-secret", body: map[string]string{"stack": "app-a", "runType": "TRACKED"}, out: &fresh}); code != 201 {
		t.Fatalf("the new secret starts a run: %d", code)
	}
	if _, code := ts.mint(t, fresh.RunToken, ""); code != 200 {
		t.Errorf("a run the new secret started mints: %d, want 200", code)
	}
}
