package loadgen

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// fakeJWS is a compact JWS whose protected header is header; its signature is not one.
func fakeJWS(header string) string {
	enc := base64.RawURLEncoding.EncodeToString
	sig := make([]byte, 256) // an RSA 2048 signature's size
	if strings.Contains(header, keys.ES256) {
		sig = sig[:64] // a P-256 signature's size
	}
	return enc([]byte(header)) + "." + enc([]byte(`{"sub":"bench"}`)) + "." + enc(sig)
}

func TestJWSAlg(t *testing.T) {
	cases := []struct {
		name    string
		token   string
		want    string
		wantErr string // "" for none
	}{
		{"ES256", fakeJWS(`{"alg":"ES256","kid":"k1","typ":"JWT"}`), keys.ES256, ""},
		{"RS256", fakeJWS(`{"alg":"RS256","kid":"k2"}`), keys.RS256, ""},
		{"two parts", "eyJhbGciOiJFUzI1NiJ9.e30", "", "not a compact JWS"},
		{"header not base64url", "e+J.e30.c2ln", "", "not base64url"},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("alg=ES256")) + ".e30.c2ln", "", "not a JSON object"},
		{"no alg", fakeJWS(`{"kid":"k1"}`), "", "names no alg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := jwsAlg(c.token)
			switch {
			case c.wantErr == "" && (err != nil || got != c.want):
				t.Errorf("jwsAlg = %q, %v; want %q", got, err, c.want)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("jwsAlg = %q, %v; want an error saying %q", got, err, c.wantErr)
			case err != nil && strings.Contains(err.Error(), c.token):
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}
}

// fakeTarget is a hand-written broker as bench --target sees it: it creates runs for the API
// key "bench-key", answers each run token's token request with token, or with a fresh token
// signed by issuer when token is empty and issuer set, and publishes a discovery document
// naming algs and a JWKS (issuer's key, or none).
type fakeTarget struct {
	token       string
	tokenStatus int
	algs        []string
	issuer      *testIssuer
}

// ServeHTTP answers as fakeTarget says.
func (f fakeTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/runs" && r.Header.Get("Authorization") == "Bearer bench-key":
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"runToken":"run-token"}`))
	case r.Method == http.MethodPost && r.URL.Path == "/v1/token" && r.Header.Get("Authorization") == "Bearer run-token":
		if f.tokenStatus != 0 {
			w.WriteHeader(f.tokenStatus)
			w.Write([]byte(`{"error":{"code":"forbidden","message":"no"}}`))
			return
		}
		tok := f.token
		if tok == "" && f.issuer != nil {
			tok = f.issuer.token()
		}
		json.NewEncoder(w).Encode(map[string]string{"token": tok, "expiresAt": "2030-01-01T00:00:00Z"})
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]any{"jwks_uri": "http://" + r.Host + "/.well-known/jwks", "id_token_signing_alg_values_supported": f.algs})
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks" && f.issuer != nil:
		w.Write(f.issuer.jwks)
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks":
		w.Write([]byte(`{"keys":[]}`))
	default:
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"no"}}`))
	}
}

// startFakeTarget serves f on loopback until the test ends.
func startFakeTarget(t *testing.T, f fakeTarget) Broker {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return Broker{URL: srv.URL, APIKey: "bench-key", Stack: "bench-stack"}
}

func TestTokenAlgReadsATokenTheTargetIssued(t *testing.T) {
	cases := []struct {
		name    string
		target  fakeTarget
		key     string
		want    string
		wantErr string
	}{
		{"ES256 beside an RS256 key", fakeTarget{token: fakeJWS(`{"alg":"ES256"}`), algs: []string{keys.RS256, keys.ES256}}, "bench-key", keys.ES256, ""},
		{"RS256", fakeTarget{token: fakeJWS(`{"alg":"RS256"}`), algs: []string{keys.RS256, keys.ES256}}, "bench-key", keys.RS256, ""},
		{"token refused", fakeTarget{tokenStatus: http.StatusForbidden}, "bench-key", "", "status 403"},
		{"no token in the answer", fakeTarget{}, "bench-key", "", "no token"},
		{"wrong API key", fakeTarget{token: fakeJWS(`{"alg":"ES256"}`)}, "other-key", "", "create a run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := startFakeTarget(t, c.target)
			b.APIKey = c.key
			got, err := b.TokenAlg(context.Background())
			switch {
			case c.wantErr == "" && (err != nil || got != c.want):
				t.Errorf("TokenAlg = %q, %v; want %q", got, err, c.want)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("TokenAlg = %q, %v; want an error saying %q", got, err, c.wantErr)
			}
		})
	}
}

// figureByID returns report's figure id; the test fails without one.
func figureByID(t *testing.T, report *Report, id string) Figure {
	t.Helper()
	for _, f := range report.Figures {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no figure %s in the report", id)
	return Figure{}
}

// A target whose discovery names RS256 and ES256 (an ES256 server keeps an RS256 key for
// Azure) has its token rate set against the raw signing of the alg of the tokens it issues,
// in the token figure and in the open loop's raw signing line; the other algorithm's figure is
// skipped, saying which alg the target signs with.
func TestTargetTokenRateSetAgainstTheAlgItSigns(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: measures a fake target for about 2 s")
	}
	for _, alg := range []string{keys.ES256, keys.RS256} {
		t.Run(alg, func(t *testing.T) {
			// Its tokens are signed (a sample of each run's is verified against its JWKS).
			b := startFakeTarget(t, signingTarget(issuerOf(t, alg), keys.RS256, keys.ES256))
			report, err := Run(context.Background(), Config{Target: b, Duration: 100 * time.Millisecond, Clients: 4})
			if err != nil {
				t.Fatal(err)
			}
			other := keys.RS256
			if alg == keys.RS256 {
				other = keys.ES256
			}
			measured := figureByID(t, report, "token_"+lower(alg)+"_target")
			if measured.Status != StatusPass && measured.Status != StatusFail {
				t.Errorf("%s: status %s (%s), want it judged against raw %s", measured.ID, measured.Status, measured.Detail, alg)
			}
			if measured.RefName != "raw "+alg || measured.Reference <= 0 {
				t.Errorf("%s: reference %v %q, want raw %s signing", measured.ID, measured.Reference, measured.RefName, alg)
			}
			skipped := figureByID(t, report, "token_"+lower(other)+"_target")
			if skipped.Status != StatusSkipped || !strings.Contains(skipped.Detail, "signs its tokens with "+alg) {
				t.Errorf("%s: %s %q, want skipped saying the target signs with %s", skipped.ID, skipped.Status, skipped.Detail, alg)
			}
			if open := figureByID(t, report, "open_loop_target"); !strings.Contains(open.Detail, "raw "+alg+" signing alone") {
				t.Errorf("open_loop_target: %s %q, want raw %s signing alone on its schedule", open.Status, open.Detail, alg)
			}
		})
	}
}

func TestTargetPlaceDecidesWhatIsComparable(t *testing.T) {
	cases := []struct {
		url            string
		nginxJudged    bool
		tokensJudged   bool
		nginxReasonSay string
	}{
		{"http://127.0.0.1:8080", true, true, ""},
		{"http://localhost:8080", true, true, ""},
		{"http://[::1]:8080", true, true, ""},
		{"https://127.0.0.1:8443", false, true, "https"},
		{"https://broker.example.com", false, false, "not on this machine's loopback"},
		{"https://10.0.0.5:8443", false, false, "not on this machine's loopback"},
		{"http://broker.example.com", false, false, "not on this machine's loopback"},
		{"http://%zz", false, false, "not on this machine's loopback"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			p := placeOf(c.url)
			nginx, tokens := p.nginxSkip(), p.tokenNotJudged()
			if (nginx == "") != c.nginxJudged || !strings.Contains(nginx, c.nginxReasonSay) {
				t.Errorf("nginx figures: skip reason %q, want judged %v (reason saying %q)", nginx, c.nginxJudged, c.nginxReasonSay)
			}
			if (tokens == "") != c.tokensJudged {
				t.Errorf("token figures: not-judged reason %q, want judged %v", tokens, c.tokensJudged)
			}
		})
	}
}

// An https target's documents are driven by the goroutine TLS workers and nginx's by the
// plain-http event loop (NewHTTPLoad), so jwks_vs_nginx and discovery_vs_nginx are skipped with
// that reason, never judged and never an error, whatever the target answers.
func TestTargetOverHTTPSSkipsTheNginxFigures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	report, err := Run(context.Background(), Config{Target: Broker{URL: closed, APIKey: "k", Stack: "s"}, Duration: 20 * time.Millisecond, Clients: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"jwks_vs_nginx", "discovery_vs_nginx"} {
		if f := figureByID(t, report, id); f.Status != StatusSkipped || !strings.Contains(f.Detail, "not driven alike") {
			t.Errorf("%s: %s %q, want skipped because the drivers differ", id, f.Status, f.Detail)
		}
	}
	if !strings.Contains(strings.Join(report.Notes, "\n"), "SKIPPED: the public documents against nginx") {
		t.Errorf("the notes do not say the public documents were skipped: %q", report.Notes)
	}
}

// targetSuite is a suite measuring b for d, set up as Run sets it up.
func targetSuite(t *testing.T, b Broker, d time.Duration) *suite {
	t.Helper()
	return testSuite(t, Config{Target: b, Duration: d, Clients: 4})
}

// testSuite is a suite for cfg, set up as Run sets it up, with raw signers of both algorithms.
func testSuite(t *testing.T, cfg Config) *suite {
	t.Helper()
	s := &suite{
		cfg: cfg, dir: t.TempDir(), signers: map[string]*RawSigner{},
		refs: map[string]*Result{keys.RS256: {}, keys.ES256: {}}, saturated: map[string]saturation{},
	}
	s.report = &Report{Figures: s.plan()}
	for _, alg := range []string{keys.RS256, keys.ES256} {
		signer, err := NewRawSigner(context.Background(), alg)
		if err != nil {
			t.Fatal(err)
		}
		s.signers[alg] = signer
	}
	return s
}

// A target off loopback (here a fake on loopback, placed as remote) has its token rate reported
// as information with the reason, never pass or fail, and its public documents skipped: neither
// is comparable with this machine's raw signing or its nginx.
func TestRemoteTargetIsNotJudgedAgainstThisMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: measures a fake target for about 1 s")
	}
	b := startFakeTarget(t, signingTarget(issuerOf(t, keys.ES256), keys.ES256)) // signed tokens: a sample is verified
	s := targetSuite(t, b, 100*time.Millisecond)
	s.runTarget(context.Background(), placeOf("https://broker.example.com"))
	for i := range s.report.Figures {
		s.report.Figures[i].Judge()
	}
	if f := figureByID(t, s.report, "token_es256_target"); f.Status != StatusInfo || f.Value <= 0 || !strings.Contains(f.Detail, "not judged: ") || !strings.Contains(f.Detail, "not comparable") {
		t.Errorf("token_es256_target: %s, value %v, detail %q; want measured, info, saying why it is not judged", f.Status, f.Value, f.Detail)
	}
	for _, id := range []string{"jwks_vs_nginx", "discovery_vs_nginx"} {
		if f := figureByID(t, s.report, id); f.Status != StatusSkipped || !strings.Contains(f.Detail, "not on this machine's loopback") {
			t.Errorf("%s: %s %q, want skipped, the target being off loopback", id, f.Status, f.Detail)
		}
	}
	if notes := strings.Join(s.report.Notes, "\n"); !strings.Contains(notes, "NOT JUDGED: the token rate against raw signing") {
		t.Errorf("the notes do not say the token rate is not judged: %q", notes)
	}
}
