package gcpemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// hs256 signs claims with a shared secret, as a confused or hostile issuer might.
func hs256(t *testing.T, iss string, c map[string]any) string {
	t.Helper()
	c["iss"] = iss
	c["iat"], c["exp"] = time.Now().Unix(), time.Now().Add(10*time.Minute).Unix()
	return signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("k", 32))}, c)
}

// signWith signs claims as a compact JWT with key, with no kid in the header.
func signWith(t *testing.T, key jose.SigningKey, c map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

func TestSTSExchange(t *testing.T) {
	f := newFixture(t)
	other := oidctest.Start(t)
	with := func(scope string, edit func(map[string]any)) map[string]any {
		c := claims(scope)
		edit(c)
		return c
	}
	sign := func(tok oidctest.Token) func(*testing.T) string {
		return func(t *testing.T) string { return f.iss.Sign(t, tok) }
	}
	tests := []struct {
		name    string
		token   func(*testing.T) string
		form    func(url.Values)
		status  int
		code    string // OAuth error code; empty on success
		message string // substring of error_description
		subject string // recorded google.subject
	}{
		{name: "good RS256", token: sign(oidctest.Token{Claims: claims("read")}), status: 200, subject: readSub},
		{name: "good ES256", token: sign(oidctest.Token{Claims: claims("write"), Alg: "ES256"}), status: 200, subject: writeSub},
		{name: "https form of the default audience", status: 200, subject: readSub,
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["aud"] = "https://iam.googleapis.com/" + testProvider })})},
		{name: "JSON aud list holding the audience", status: 200, subject: readSub,
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["aud"] = []any{"other", testAudience} })})},
		{name: "unknown provider in audience parameter", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Set("audience", "//iam.googleapis.com/"+testPool+"/providers/missing") },
			status: 400, code: "invalid_target", message: `The target service indicated by the "audience" parameters is invalid`},
		{name: "audience parameter not a resource name", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Set("audience", testProvider) },
			status: 400, code: "invalid_request", message: `Invalid value for "audience"`},
		{name: "token aud mismatch", status: 400, code: "invalid_grant",
			token:   sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["aud"] = "sts.amazonaws.com" })}),
			message: "The audience in ID Token [sts.amazonaws.com] does not match the expected audience."},
		{name: "wrong issuer", status: 400, code: "invalid_grant", message: "The issuer in ID Token [" + other.URL + "] does not match",
			token: func(t *testing.T) string { return other.Sign(t, oidctest.Token{Claims: claims("read")}) }},
		{name: "rogue key", token: sign(oidctest.Token{Claims: claims("read"), Rogue: true}),
			status: 400, code: "invalid_grant", message: "Invalid JWT signature."},
		{name: "expired", token: sign(oidctest.Token{Claims: claims("read"), ExpiresIn: -time.Hour}),
			status: 400, code: "invalid_grant", message: "is stale to sign-in."},
		{name: "not yet valid", status: 400, code: "invalid_grant", message: "not yet valid",
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })})},
		{name: "HS256 refused", token: func(t *testing.T) string { return hs256(t, f.iss.URL, claims("read")) },
			status: 400, code: "invalid_grant", message: `algorithm "HS256"`},
		{name: "a good token in the JWS JSON serialization", status: 400, code: "invalid_grant", message: "Unable to parse the ID Token.",
			token: func(t *testing.T) string {
				_, flattened := oidctest.JSONSerialized(t, sign(oidctest.Token{Claims: claims("read")})(t))
				return flattened
			}},
		{name: "garbage token", token: func(*testing.T) string { return "not.a.jwt" },
			status: 400, code: "invalid_grant", message: "Unable to parse the ID Token."},
		{name: "attribute condition refuses", status: 400, code: "unauthorized_client", message: msgConditionRejected,
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["callerId"] = "blocked" })})},
		{name: "google.subject over 127 bytes", status: 400, code: "invalid_request", message: "exceeds the 127 bytes limit",
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { c["sub"] = strings.Repeat("s", 128) })})},
		{name: "no sub claim", status: 400, code: "invalid_request", message: "google.subject is empty",
			token: sign(oidctest.Token{Claims: with("read", func(c map[string]any) { delete(c, "sub") })})},
		{name: "wrong grant type", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Set("grant_type", "client_credentials") },
			status: 400, code: "invalid_request", message: `"grant_type"`},
		{name: "wrong requested token type", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Set("requested_token_type", tokenTypeJWT) },
			status: 400, code: "invalid_request", message: `"requested_token_type"`},
		{name: "SAML subject token type", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2") },
			status: 400, code: "invalid_request", message: `"subject_token_type"`},
		{name: "no scope", token: sign(oidctest.Token{Claims: claims("read")}),
			form:   func(v url.Values) { v.Del("scope") },
			status: 400, code: "invalid_request", message: `"scope"`},
		{name: "no subject token", token: func(*testing.T) string { return "" },
			status: 400, code: "invalid_request", message: `"subject_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token(t)
			form := stsForm(token)
			if tt.form != nil {
				tt.form(form)
			}
			status, body := f.postSTS(t, form)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %v", status, tt.status, body)
			}
			call := lastCall(t, f.emu)
			if call.Endpoint != EndpointSTS || call.Status != tt.status {
				t.Errorf("call %+v", call)
			}
			if tt.code != "" {
				desc, _ := body["error_description"].(string)
				if body["error"] != tt.code || !strings.Contains(desc, tt.message) {
					t.Errorf("error %v %q, want %s containing %q", body["error"], desc, tt.code, tt.message)
				}
				if token != "" && strings.Contains(desc, token) {
					t.Error("error_description echoes the subject token")
				}
				if call.Outcome != tt.code {
					t.Errorf("outcome %q, want %q", call.Outcome, tt.code)
				}
				return
			}
			if body["token_type"] != "Bearer" || body["issued_token_type"] != tokenTypeAccess || !livesUntilSubjectExp(body["expires_in"]) {
				t.Errorf("success body %v", body)
			}
			if tok, _ := body["access_token"].(string); tok == "" || strings.Contains(tok, token) {
				t.Errorf("access_token %q", tok)
			}
			if call.Outcome != OutcomeOK || call.Provider != testProvider || call.Audience != testAudience ||
				call.Subject != tt.subject || len(call.Scopes) != 1 || call.Scopes[0] != cloudScope {
				t.Errorf("call %+v", call)
			}
		})
	}
}

func TestSTSAcceptsJSONBody(t *testing.T) {
	f := newFixture(t)
	body, _ := json.Marshal(map[string]string{
		"grantType": grantTokenExchange, "requestedTokenType": tokenTypeAccess, "subjectTokenType": tokenTypeJWT,
		"subjectToken": f.iss.Sign(t, oidctest.Token{Claims: claims("read")}), "audience": testAudience, "scope": cloudScope,
	})
	resp, err := http.Post(f.srv.URL+"/v1/token", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if status, out := decode(t, resp); status != 200 || out["access_token"] == "" {
		t.Fatalf("%d %v", status, out)
	}
}

func TestDefaultAllowedAudiencesAndMapping(t *testing.T) {
	iss := oidctest.Start(t)
	emu := New(Config{Providers: []Provider{{Name: testProvider, Issuer: iss.URL}}})
	f := &fixture{emu: emu, iss: iss}
	srv := newServer(t, emu)
	f.srv = srv
	for _, aud := range []string{testAudience, "https://iam.googleapis.com/" + testProvider} {
		status, body := f.postSTS(t, stsForm(iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "x", "aud": aud}})))
		if status != 200 {
			t.Errorf("aud %s: %d %v", aud, status, body)
		}
	}
	if got := lastCall(t, emu).Subject; got != "x" {
		t.Errorf("default mapping gave subject %q", got)
	}
	custom := New(Config{Providers: []Provider{{Name: testProvider, Issuer: iss.URL, AllowedAudiences: []string{"https://broker.example/gcp"}}}})
	f.srv, f.emu = newServer(t, custom), custom
	status, body := f.postSTS(t, stsForm(iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "x", "aud": testAudience}})))
	if status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("default audience accepted although allowed audiences are set: %d %v", status, body)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad provider name", Config{Providers: []Provider{{Name: "pools/x", Issuer: "https://i"}}}, "is not projects/"},
		{"no issuer", Config{Providers: []Provider{{Name: testProvider}}}, "issuer is required"},
		{"no subject mapping", Config{Providers: []Provider{{Name: testProvider, Issuer: "https://i",
			AttributeMapping: map[string]string{"attribute.a": "assertion.a"}}}}, "must map google.subject"},
		{"CEL mapping", Config{Providers: []Provider{{Name: testProvider, Issuer: "https://i",
			AttributeMapping: map[string]string{"google.subject": "assertion.sub.split(':')[0]"}}}}, "is not assertion.<claim>, or a concatenation"},
		{"bad attribute", Config{Providers: []Provider{{Name: testProvider, Issuer: "https://i",
			AttributeMapping: map[string]string{"google.subject": "assertion.sub", "repo": "assertion.repo"}}}}, `attribute "repo"`},
		{"bad member", Config{ServiceAccounts: []ServiceAccount{{Email: readerSA, Members: []string{"user:a@b"}}}}, "not a principal"},
		{"bad email", Config{ServiceAccounts: []ServiceAccount{{Email: "reader"}}}, "is not an email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted an invalid config")
		}
	}()
	New(tests[0].cfg)
}

// livesUntilSubjectExp reports whether expires_in, as STS answered it, ends the federated token
// with its subject token, which the tests sign to expire 10 minutes after they are made.
func livesUntilSubjectExp(expiresIn any) bool {
	n, ok := expiresIn.(float64)
	return ok && n >= 590 && n <= 600
}
