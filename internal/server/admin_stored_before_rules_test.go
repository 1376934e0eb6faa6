package server

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestAdminBesideObjectsStoredBeforeRules: Redis holds what an older build accepted and
// today's rules refuse (a GCP integration lasting 13h, a Vault mount that climbs). They are
// not in force (GET and DELETE answer 404), yet every other change goes through (deleting a
// leaked API key above all), and a PUT of a valid object under their id replaces them, at the
// stored version, after which DELETE removes it.
func TestAdminBesideObjectsStoredBeforeRules(t *testing.T) {
	redis := redistest.Start(t)
	gcp := plantStoredBeforeRules(t, redis.URL(), "leaked")
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig})

	ts.admin(t, "GET", "/v1/integrations/g1", "").expect(t, "GET a left-out integration", 404)
	ts.admin(t, "DELETE", "/v1/api-keys/leaked", "").expect(t, "delete the leaked API key", 204)
	ts.admin(t, "PUT", "/v1/roles/reader", `{"actions":["run:read"]}`).expect(t, "create an unrelated role", 201)
	ts.ifMatch(`"1"`).admin(t, "PUT", "/v1/integrations/g1",
		`{"space":"prod","duration":"1h","gcp":{"workloadIdentityProvider":"`+gcp.WorkloadIdentityProvider+`","serviceAccount":"`+gcp.ServiceAccount+`"}}`).
		expect(t, "replace the left-out g1 at its stored version", 200, `"version":2`)
	ts.admin(t, "GET", "/v1/integrations/g1", "").expect(t, "GET g1 replaced", 200, `"duration":"1h0m0s"`)
	ts.admin(t, "DELETE", "/v1/integrations/v1", "").expect(t, "DELETE the left-out v1", 404)
	ts.admin(t, "PUT", "/v1/integrations/v1", `{"space":"prod","vault":{"address":"https://vault.example.com","mount":"x","role":"r"}}`).
		expect(t, "replace the left-out v1", 200, `"version":2`)
	ts.admin(t, "DELETE", "/v1/integrations/v1", "").expect(t, "DELETE v1 replaced", 204)
}

// storedGCP is the GCP identity of the integration plantStoredBeforeRules stores.
var storedGCP = &config.GCP{WorkloadIdentityProvider: "projects/1/locations/global/workloadIdentityPools/pool/providers/prov", ServiceAccount: "a@b.iam.gserviceaccount.com"}

// plantStoredBeforeRules writes into the Redis at url what an older build accepted and today's
// rules refuse: integration g1 (GCP, lasting 13h) and v1 (a Vault mount that climbs) in prod,
// beside a valid API key keyID (secret keyID+"-secret", admin on prod). It returns g1's GCP.
func plantStoredBeforeRules(t *testing.T, url, keyID string) *config.GCP {
	t.Helper()
	plantStored(t, url, []any{
		config.Integration{ID: "g1", Space: "prod", Duration: 13 * time.Hour, GCP: storedGCP},
		config.Integration{ID: "v1", Space: "prod", Vault: &config.Vault{Address: "https://vault.example.com", Mount: "../x", Role: "r"}},
		config.APIKey{ID: keyID, SecretSHA256: sha256Hex(keyID + "-secret"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}},
	})
	return storedGCP
}
