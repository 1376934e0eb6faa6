package server

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
)

// transitKey is the Transit key of the vault-transit tests; the RS256 chain that Entra ID needs
// uses transitKey + "-rs256".
const transitKey = "broker-oidc"

// startTransitVault runs a Vault dev server with Transit at "transit" and puts in VAULT_TOKEN a
// token that may use only the Transit keys broker-*. It returns the server and a root client.
func startTransitVault(t testing.TB) (*vaulttest.Server, *vaultapi.Client) {
	t.Helper()
	v := vaulttest.Start(t)
	v.EnableTransit(t, "transit")
	t.Setenv("VAULT_TOKEN", v.TransitToken(t, "transit", "broker-", vaulttest.TokenOptions{TTL: time.Hour}))
	return v, v.Client()
}

// transitYAML is the keys.vault_transit line of a broker using Vault at address.
func transitYAML(address string) string {
	return fmt.Sprintf("vault_transit: {address: %q, mount: transit, key: %s}", address, transitKey)
}

// transitPublicKeys returns the public key of every version of the Transit keys names, by kid.
func transitPublicKeys(t *testing.T, root *vaultapi.Client, names ...string) map[string]crypto.PublicKey {
	t.Helper()
	out := map[string]crypto.PublicKey{}
	for _, name := range names {
		sec, err := root.Logical().ReadWithContext(context.Background(), "transit/keys/"+name)
		if err != nil || sec == nil {
			t.Fatalf("read transit key %s: %v", name, err)
		}
		versions, _ := sec.Data["keys"].(map[string]any)
		for v, raw := range versions {
			text, _ := raw.(map[string]any)["public_key"].(string)
			pub := parsePEMPublic(t, text)
			kid, err := keys.Thumbprint(pub)
			if err != nil {
				t.Fatalf("%s v%s: %v", name, v, err)
			}
			out[kid] = pub
		}
	}
	return out
}

// checkJWKSIsTransit fails t unless every key of the served JWKS is a Transit version's public
// key and the JWKS holds exactly the keys the replica publishes; it returns the JWKS.
func checkJWKSIsTransit(t *testing.T, ts *testServer, root *vaultapi.Client) map[string]crypto.PublicKey {
	t.Helper()
	jwks := fetchJWKS(t, ts)
	transit := transitPublicKeys(t, root, transitKey, transitKey+"-rs256")
	for kid, pub := range jwks {
		tp, ok := transit[kid]
		if !ok || !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(tp) {
			t.Fatalf("JWKS key %s is not the public key of a Transit version", kid)
		}
	}
	var published []string
	for _, k := range ts.srv.Keys().Snapshot().Published {
		published = append(published, k.KID)
	}
	if len(published) != len(jwks) {
		t.Fatalf("JWKS has %d keys, the replica publishes %d (%v)", len(jwks), len(published), published)
	}
	for _, kid := range published {
		if _, ok := jwks[kid]; !ok {
			t.Fatalf("published key %s is not in the JWKS", kid)
		}
	}
	return jwks
}

// TestVaultTransitEndToEnd runs broker on the vault-transit backend against a real Vault, the key
// set metadata in a real Redis: tokens of both algorithms verify with go-oidc through discovery,
// the JWKS is Transit's public keys, and after full rotations of both chains (a fake clock
// drives the schedule) no private key is in any file under the test's directories, any Redis
// value, Redis's snapshot or any log line. The Transit keys are made exportable once broker has
// signed its last token (broker signs with no exportable key), so that the test can export their
// private keys and search for their bytes; broker never exports.
func TestVaultTransitEndToEnd(t *testing.T) {
	v, root := startTransitVault(t)
	rs := redistest.Start(t)
	clock := fakeclock.New(time.Now().UTC())
	ts := startServer(t, serverOptions{
		alg: "ES256", now: clock.Now, redisURL: rs.URL(), keyBackend: "vault-transit", keysYAML: transitYAML(v.Addr()),
		rotation: &rotationOptions{"10m", "2m", "3m", "1m"},
	})
	ctx := context.Background()
	initial := checkJWKSIsTransit(t, ts, root)
	if len(initial) != 2 {
		t.Fatalf("initial JWKS has %d keys, want one per chain (ES256, RS256)", len(initial))
	}

	run := ts.createRun(t, "vpc-prod", "TRACKED")
	seen := map[string]bool{}
	for step := range 16 { // 16 × 1m45s: both chains rotate at least twice; the first keys expire
		for aud, alg := range map[string]string{"sts.example": "ES256", exchange.AzureAudience: "RS256"} {
			tok, code := ts.mint(t, run.RunToken, aud)
			if code != 200 {
				t.Fatalf("step %d: mint for %s: %d", step, aud, code)
			}
			h := jwtHeader(t, tok.Token)
			if h["alg"] != alg {
				t.Fatalf("step %d: token for %s signed %v, want %s", step, aud, h["alg"], alg)
			}
			ts.verify(t, tok.Token, aud, clock.Now)
			seen[h["kid"].(string)] = true
		}
		checkJWKSIsTransit(t, ts, root)
		clock.Advance(105 * time.Second)
		if _, err := ts.srv.Keys().Refresh(ctx); err != nil {
			t.Fatalf("step %d: refresh: %v", step, err)
		}
	}
	final := checkJWKSIsTransit(t, ts, root)
	for kid := range initial {
		if _, ok := final[kid]; ok {
			t.Fatalf("first key %s still published after full rotations", kid)
		}
	}
	if len(seen) < 6 {
		t.Fatalf("tokens were signed by %d keys, want at least 3 per chain", len(seen))
	}

	for _, name := range []string{transitKey, transitKey + "-rs256"} {
		if _, err := root.Logical().Write("transit/keys/"+name+"/config", map[string]any{"exportable": true}); err != nil {
			t.Fatal(err)
		}
	}
	secrets := exportedSecrets(t, root, "transit", transitKey, transitKey+"-rs256")
	// The search finds what it looks for: a control file holding one encoding of a key.
	control := filepath.Join(t.TempDir(), "control")
	if err := os.WriteFile(control, secrets[len(secrets)-1].bytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if found := filesHolding(t, filepath.Dir(control), secrets); len(found) != 1 {
		t.Fatalf("control: the search found %v, want the control file", found)
	}
	_ = os.Remove(control)
	if err := rs.Client().Save(ctx).Err(); err != nil {
		t.Fatalf("redis SAVE: %v", err)
	}
	dirs := []string{filepath.Dir(filepath.Dir(control)), rs.Dir()}
	var found []string
	for _, dir := range dirs {
		found = append(found, filesHolding(t, dir, secrets)...)
	}
	found = append(found, redisHolding(t, rs.Client(), secrets)...)
	for _, what := range leaks([]byte(ts.Logs.String()), secrets) {
		found = append(found, "server log: "+what)
	}
	if len(found) > 0 {
		t.Fatalf("private key material found: %s", strings.Join(found, "; "))
	}
	if !slices.ContainsFunc(strings.Split(ts.Logs.String(), "\n"), func(l string) bool { return strings.Contains(l, "key set updated") }) {
		t.Fatal("the server logged no rotation: the log search proves nothing")
	}
}

// parsePEMPublic parses a PEM public key, failing t.
func parsePEMPublic(t *testing.T, text string) crypto.PublicKey {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		t.Fatalf("not a PEM public key: %q", text)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// Without VAULT_TOKEN a vault-transit broker refuses to start, saying what it needs.
func TestVaultTransitNeedsToken(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "")
	cfg, err := config.Parse("t.yaml", []byte("issuer: http://127.0.0.1:1\nkeys:\n  backend: vault-transit\n  "+transitYAML("http://127.0.0.1:1")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "VAULT_TOKEN is not set") || !strings.Contains(err.Error(), "transit/keys/broker-oidc") {
		t.Fatalf("New without VAULT_TOKEN = %v, want a refusal naming VAULT_TOKEN and the keys it needs", err)
	}
}

// TestVaultTransitMetadataLostIsWrittenBack: Redis loses the key set's metadata while Transit
// keeps every version. The replica writes the set it holds back: the JWKS stays Transit's
// versions it published, and no version made now signs at once.
func TestVaultTransitMetadataLostIsWrittenBack(t *testing.T) {
	v, root := startTransitVault(t)
	rs := redistest.Start(t)
	ts := startServer(t, serverOptions{
		alg: "ES256", redisURL: rs.URL(), keyBackend: "vault-transit", keysYAML: transitYAML(v.Addr()), keyRefresh: 50 * time.Millisecond,
	})
	before := checkJWKSIsTransit(t, ts, root)
	if err := rs.Client().FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	within(t, time.Now(), "the metadata is back in Redis", func() bool {
		n, err := rs.Client().Exists(context.Background(), "broker:{transit}:keyset").Result()
		return err == nil && n == 1
	})
	time.Sleep(200 * time.Millisecond)
	after := checkJWKSIsTransit(t, ts, root)
	if !slices.Equal(slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before))) {
		t.Errorf("JWKS after the loss %v, want %v", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
	}
}

// TestTransitTokenEchoedByAProxyStaysOut: broker's own Vault token (VAULT_TOKEN) goes with every
// Transit call. When what answers at keys.vault_transit.address is not Vault's JSON (a proxy's
// error page that quotes the request, as broker itself assumes of STS and of an integration's
// Vault, whose answers it scrubs), the Vault client keeps the raw body as the error, and broker
// must not pass it on: neither its log nor the audit event of the failed credentials exchange
// holds the token.
func TestTransitTokenEchoedByAProxyStaysOut(t *testing.T) {
	v, _ := startTransitVault(t)
	token := os.Getenv("VAULT_TOKEN")
	target, _ := url.Parse(v.Addr())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var echo atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if echo.Load() {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "502 Bad Gateway: upstream unavailable for %s %s (X-Vault-Token: %s)\n", r.Method, r.URL.Path, r.Header.Get("X-Vault-Token"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	extra := `
integrations:
  - {id: vault-x, space: prod, vault: {address: "http://127.0.0.1:1", role: r}}
attachments:
  - {stack: vpc-prod, integration: vault-x, read: true, write: true}
`
	ts := startServer(t, serverOptions{alg: "ES256", keyBackend: "vault-transit", keysYAML: transitYAML(front.URL), extraYAML: extra})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("token before the echo: %d", code)
	}
	echo.Store(true)
	_, code := ts.mint(t, run.RunToken, "")
	_, ccode, env := ts.credentials(t, run.RunToken, "vault", "vault-x")
	t.Logf("token: %d; credentials: %d %s", code, ccode, env.Error.Message)

	var page struct {
		Events []map[string]any `json:"events"`
	}
	if c := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?space=root&limit=1000", bearer: auditorSecret, out: &page}); c != 200 {
		t.Fatalf("audit: %d", c)
	}
	if code != 503 || ccode != 503 {
		t.Fatalf("with the proxy's page in Vault's stead: token %d, credentials %d, want 503 and 503", code, ccode)
	}
	var told bool
	for _, e := range page.Events {
		d, _ := e["detail"].(string)
		told = told || e["action"] == "credentials.issue" && e["outcome"] == "error" && strings.Contains(d, "Vault answered 502")
	}
	if !told {
		t.Errorf("no credentials.issue error event tells of Vault's 502: %v", page.Events)
	}
	raw, _ := json.Marshal(page.Events)
	if strings.Contains(string(raw), token) {
		for _, e := range page.Events {
			if d, _ := e["detail"].(string); strings.Contains(d, token) {
				t.Errorf("audit event %v %v holds broker's Vault token: detail = %s", e["action"], e["outcome"], d)
			}
		}
	}
	if logs := ts.Logs.String(); strings.Contains(logs, token) {
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, token) {
				t.Errorf("server log holds broker's Vault token: %s", line)
				break
			}
		}
	}
}
