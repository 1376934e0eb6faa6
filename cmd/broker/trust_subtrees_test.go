package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// subtreeCall sends method path body with the API key or run token secret and returns status and body.
func subtreeCall(t *testing.T, b *liveBroker, secret, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, b.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestTrustLeavesOutAnotherSubtreesIntegration: an administrator of the space "base" only
// (no binding on prod, base does not inherit from prod) creates in base an integration naming
// prod's write role ARN and attaches it, for write, to a stack of base. The trust policy prod's
// operator then prints for prod's own stack (broker trust aws --stack vpc --scope write) does not
// admit base's stack, and a note on stderr says it was left out.
func TestTrustLeavesOutAnotherSubtreesIntegration(t *testing.T) {
	b := startLive(t, liveFile(""))
	prod := `spaces:
  - {id: prod, parent: root, inherit: false}
stacks:
  - {id: vpc, space: prod}
integrations:
  - id: aws-prod-write
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/prod-write"}
attachments:
  - {stack: vpc, integration: aws-prod-write, write: true}
`
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", prod)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	before := b.cli(t, liveReader, "trust", "aws", "--stack", "vpc", "--scope", "write")
	if before.code != 0 {
		t.Fatalf("trust before: %+v", before)
	}
	// The attacker: space:admin (and run:*) on base only.
	for _, step := range [][2]string{
		{"/v1/stacks/evil", `{"space":"base"}`},
		{"/v1/integrations/aws-evil", `{"space":"base","aws":{"roleArn":"arn:aws:iam::123456789012:role/prod-write"}}`},
		{"/v1/stacks/evil/attachments/aws-evil", `{"write":true}`},
	} {
		if code, body := subtreeCall(t, b, liveBaseKey, http.MethodPut, step[0], step[1]); code != 200 && code != 201 {
			t.Fatalf("PUT %s as base-admin: %d %s", step[0], code, body)
		}
	}
	// The attacker's own write run mints a token whose sub is ...
	code, body := subtreeCall(t, b, liveBaseKey, http.MethodPost, "/v1/runs", `{"stack":"evil","runType":"TRACKED","phase":"APPLYING"}`)
	if code != 201 {
		t.Fatalf("run: %d %s", code, body)
	}
	var run struct{ RunToken string }
	_ = json.Unmarshal([]byte(body), &run)
	code, body = subtreeCall(t, b, run.RunToken, http.MethodPost, "/v1/token", `{"audience":"sts.amazonaws.com"}`)
	if code != 200 {
		t.Fatalf("token: %d %s", code, body)
	}
	var tok struct{ Token string }
	_ = json.Unmarshal([]byte(body), &tok)
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok.Token, ".")[1])
	var claims struct{ Sub string }
	_ = json.Unmarshal(payload, &claims)

	// ... and prod's operator prints the trust policy of prod's own stack again.
	after := b.cli(t, liveReader, "trust", "aws", "--stack", "vpc", "--scope", "write")
	if after.code != 0 {
		t.Fatalf("trust after: %+v", after)
	}
	if !strings.Contains(after.stderr, "note: left out, as another subtree's: stack evil (write) through integration") {
		t.Errorf("no note on stderr naming what was left out: %q", after.stderr)
	}
	if strings.Contains(after.stdout, claims.Sub) {
		t.Errorf("the trust policy printed for prod's stack vpc (write) now admits %q, a write token of stack evil in space base, created by base's administrator with prod's role ARN:\nbefore:\n%s\nafter:\n%s",
			claims.Sub, before.stdout, after.stdout)
	}
}

// TestTrustStaysPrintableWhenAnotherSubtreeNamesTheRole: base's administrator names prod's Vault
// role in an integration of base and attaches it to a stack of base: prod's operator still
// prints the Vault role of prod's own stack (base's claims would otherwise make it too broad).
func TestTrustStaysPrintableWhenAnotherSubtreeNamesTheRole(t *testing.T) {
	b := startLive(t, liveFile(""))
	prod := `spaces:
  - {id: prod, parent: root, inherit: false}
stacks:
  - {id: vpc, space: prod}
integrations:
  - id: vault-prod
    space: prod
    vault: {address: "https://vault.example.com:8200", role: deploy}
    audience: vault
attachments:
  - {stack: vpc, integration: vault-prod, write: true}
`
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", prod)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	if r := b.cli(t, liveReader, "trust", "vault", "--stack", "vpc", "--scope", "write"); r.code != 0 {
		t.Fatalf("trust before: %+v", r)
	}
	for _, step := range [][2]string{
		{"/v1/stacks/evil", `{"space":"base"}`},
		{"/v1/integrations/vault-evil", `{"space":"base","audience":"vault","vault":{"address":"https://vault.example.com:8200","role":"deploy"}}`},
		{"/v1/stacks/evil/attachments/vault-evil", `{"write":true}`},
	} {
		if code, body := subtreeCall(t, b, liveBaseKey, http.MethodPut, step[0], step[1]); code != 200 && code != 201 {
			t.Fatalf("PUT %s as base-admin: %d %s", step[0], code, body)
		}
	}
	if r := b.cli(t, liveReader, "trust", "vault", "--stack", "vpc", "--scope", "write"); r.code != 0 {
		t.Errorf("after base's administrator named prod's Vault role, prod's own trust no longer prints: exit %d, stderr %q", r.code, r.stderr)
	}
}
