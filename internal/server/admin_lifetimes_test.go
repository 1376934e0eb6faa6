package server

import (
	"strings"
	"testing"
)

// TestAPIAzureIntegrationUnderShortTokenLifetime: broker running with tokens.ttl 30s refuses an
// Azure integration put through the API with 400, naming the integration's azure field and
// tokens.ttl, and stores nothing; an AWS integration is stored under the same lifetime. The
// file's Azure integrations are refused under it at the start, so the API holds the same line.
func TestAPIAzureIntegrationUnderShortTokenLifetime(t *testing.T) {
	objects := strings.ReplaceAll(sameMessageObjects, "ADMIN_SHA", sha256Hex(rootAdminSecret))
	ts := startServer(t, serverOptions{baseYAML: "issuer: ISSUER\nlisten: 127.0.0.1:0\nkeys: {backend: BACKEND}\ntokens: {ttl: 30s}\n" + objects})
	const azure = `{"space":"prod","azure":{"tenantId":"0f0e0d0c-0b0a-0908-0706-050403020100","clientId":"0f0e0d0c-0b0a-0908-0706-050403020101"}}`
	a := ts.admin(t, "PUT", "/v1/integrations/az", azure)
	if a.code != 400 {
		t.Fatalf("PUT an Azure integration under tokens.ttl 30s: %d %s, want 400", a.code, a.body)
	}
	if msg := a.err.Error.Message; !strings.Contains(msg, `"azure"`) || !strings.Contains(msg, "tokens.ttl") {
		t.Errorf("message %q does not name the azure field and tokens.ttl", msg)
	}
	if got := ts.admin(t, "GET", "/v1/integrations/az", ""); got.code != 404 {
		t.Errorf("GET the refused integration: %d, want 404", got.code)
	}
	const aws = `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`
	if got := ts.admin(t, "PUT", "/v1/integrations/aw", aws); got.code != 201 && got.code != 200 {
		t.Errorf("PUT an AWS integration under tokens.ttl 30s: %d %s", got.code, got.body)
	}
}
