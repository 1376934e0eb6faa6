package server

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestReloadBesideObjectsStoredBeforeRules: Redis holds what an older build accepted and
// today's rules refuse (a GCP integration lasting 13h, a Vault mount that climbs), left out of
// force. A reload (SIGHUP) whose file removes a compromised API key is in force all the same:
// the key stops working at once and the stored objects stay out. A file colliding with an API
// key in force is still refused whole, and the key stays.
func TestReloadBesideObjectsStoredBeforeRules(t *testing.T) {
	ctx := context.Background()
	redis := redistest.Start(t)
	plantStoredBeforeRules(t, redis.URL(), "stored")
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})
	sibling := apiRequest{method: "GET", path: "/v1/spaces/team-b", bearer: siblingSecret}
	if code := ts.call(t, sibling); code != 200 {
		t.Fatalf("the file key sibling before the reload: %d, want 200", code)
	}

	compromised := *ts.srv.cfg
	compromised.APIKeys = slices.DeleteFunc(slices.Clone(compromised.APIKeys), func(k config.APIKey) bool { return k.ID == "sibling" })
	if err := ts.srv.Reload(ctx, &compromised, nil); err != nil {
		t.Fatalf("a reload removing a compromised file API key: %v", err)
	}
	if code := ts.call(t, sibling); code != 401 {
		t.Errorf("the removed file key sibling after the reload: %d, want 401", code)
	}
	ts.admin(t, "GET", "/v1/integrations/g1", "").expect(t, "GET the left-out g1 after the reload", 404)
	ts.admin(t, "GET", "/v1/integrations/v1", "").expect(t, "GET the left-out v1 after the reload", 404)

	colliding := compromised
	colliding.APIKeys = append(slices.Clone(compromised.APIKeys),
		config.APIKey{ID: "stored", SecretSHA256: sha256Hex("file-secret"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}})
	if err := ts.srv.Reload(ctx, &colliding, nil); err == nil || !strings.Contains(err.Error(), `"stored"`) {
		t.Fatalf("a reload colliding with the API key in force = %v, want it refused naming the key", err)
	}
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/spaces/prod", bearer: "stored-secret"}); code != 200 {
		t.Errorf("the API key stored after a refused colliding reload: %d, want 200", code)
	}
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/spaces/prod", bearer: "file-secret"}); code != 401 {
		t.Errorf("the refused file's key: %d, want 401", code)
	}
}
