package issuer

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/keys"
)

// publishKeys returns an ES256 and an RS256 key that sign and an ES256 key that is only
// prepublished (published, not yet signing).
func publishKeys(t *testing.T) (es, rs, pre keys.Key) {
	t.Helper()
	gen := func(alg string) keys.Key {
		k, err := keys.Generate(alg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	return gen(keys.ES256), gen(keys.RS256), gen(keys.ES256)
}

// serveDoc answers req with d's Serve and checks that Serve returns the status it answered.
func serveDoc(t *testing.T, d Document, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if status := d.Serve(rec, req); status != rec.Code {
		t.Fatalf("%s %s: Serve returned %d, answered %d", req.Method, req.URL.Path, status, rec.Code)
	}
	return rec
}

// docRequest is a request of method for path, with If-None-Match ifNoneMatch unless empty.
func docRequest(method, path, ifNoneMatch string) *http.Request {
	req := httptest.NewRequest(method, path, nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	return req
}

// TestJWKSHoldsExactlyThePublishedPublicKeys pins the JWKS: one entry per published key
// (prepublished ones included, keys of every algorithm), each with its kid, kty, alg and use "sig",
// and only public halves (no private member "d", "p", "q" ... anywhere).
// Guards against: publish.go:213 Key: k.Signer.Public() -> k.Signer (private keys published)
// Guards against: publish.go:212 ranging over snap.Signers instead of snap.Published
// Guards against: publish.go:213 Use: "sig" -> ""
// Guards against: publish.go:213 Algorithm: k.Alg -> ""
func TestJWKSHoldsExactlyThePublishedPublicKeys(t *testing.T) {
	es, rs, pre := publishKeys(t)
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es, rs}, Published: []keys.Key{es, rs, pre}}}
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: src, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	rec := serveDoc(t, pub.Routes()[JWKSPath], docRequest("GET", JWKSPath, ""))
	if rec.Code != 200 {
		t.Fatalf("GET jwks: %d", rec.Code)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]keys.Key{es.KID: es, rs.KID: rs, pre.KID: pre}
	if len(raw.Keys) != len(want) {
		t.Fatalf("jwks has %d keys, want %d: %s", len(raw.Keys), len(want), rec.Body)
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("jwks key %v carries the private member %q", k["kid"], private)
			}
		}
		kid, _ := k["kid"].(string)
		w, ok := want[kid]
		if !ok {
			t.Errorf("jwks key %q is not a published key", kid)
			continue
		}
		delete(want, kid)
		wantKty := map[string]string{keys.RS256: "RSA", keys.ES256: "EC"}[w.Alg]
		if k["alg"] != w.Alg || k["use"] != "sig" || k["kty"] != wantKty {
			t.Errorf("jwks key %s: alg %v use %v kty %v; want %s, sig, %s", kid, k["alg"], k["use"], k["kty"], w.Alg, wantKty)
		}
	}
	if len(want) != 0 {
		t.Errorf("published keys missing from the jwks: %v", want)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			t.Errorf("jwks key %s: public %v, valid %v", k.KeyID, k.IsPublic(), k.Valid())
		}
	}
}

// TestDocumentsFollowTheKeySet pins that when the key set's version changes, the JWKS lists the new
// keys and its ETag changes, so no relying party keeps the old key set.
// Guards against: publish.go:224 rendered documents reused across versions (`d.version ==
// snap.Version` -> true)
// Guards against: publish.go:77 constant ETag (`sum[:16]` -> `sum[:0]`)
func TestDocumentsFollowTheKeySet(t *testing.T) {
	a, b, _ := publishKeys(t)
	src := &rotatingKeys{}
	src.p.Store(&keys.Snapshot{Version: "v1", Signing: a, Signers: []keys.Key{a}, Published: []keys.Key{a}})
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: src, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	jwks := pub.Routes()[JWKSPath]
	kids := func(body []byte) []string {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range set.Keys {
			out = append(out, k.KeyID)
		}
		slices.Sort(out)
		return out
	}
	first := serveDoc(t, jwks, docRequest("GET", JWKSPath, ""))
	src.p.Store(&keys.Snapshot{Version: "v2", Signing: b, Signers: []keys.Key{b}, Published: []keys.Key{a, b}})
	second := serveDoc(t, jwks, docRequest("GET", JWKSPath, ""))
	want := []string{a.KID, b.KID}
	slices.Sort(want)
	if got := kids(second.Body.Bytes()); !slices.Equal(got, want) {
		t.Errorf("jwks after the key set changed: %v, want %v", got, want)
	}
	if e1, e2 := first.Header().Get("ETag"), second.Header().Get("ETag"); e1 == e2 || len(e1) < 10 {
		t.Errorf("ETag %q before and %q after the key set changed; want distinct content hashes", e1, e2)
	}
	// A conditional GET with the old ETag gets the new document, not a 304.
	if rec := serveDoc(t, jwks, docRequest("GET", JWKSPath, first.Header().Get("ETag"))); rec.Code != 200 {
		t.Errorf("conditional GET with the old ETag after rotation: %d, want 200", rec.Code)
	}
	if ans, ok := jwks.Wire(first.Header().Get("ETag")); !ok || ans.Status != 200 {
		t.Errorf("Wire with the old ETag after rotation: %d, %v; want 200", ans.Status, ok)
	}
}

// TestConditionalAndHeadRequests pins If-None-Match handling (exact, weak W/, "*", a tag later in a
// list, a foreign tag, none) and HEAD, alike in Serve and Wire, for both documents: 304 carries no
// body, HEAD answers 200 with Content-Length and no body.
// Guards against: publish.go:179 inverted etagMatches in Serve
// Guards against: publish.go:201 Wire never answers 304
// Guards against: publish.go:264 "*" not honoured / W/ prefix not stripped
// Guards against: publish.go:267 only the first tag of a list compared
// Guards against: publish.go:185 HEAD answered with a body
func TestConditionalAndHeadRequests(t *testing.T) {
	es, rs, _ := publishKeys(t)
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es, rs}, Published: []keys.Key{es, rs}}}
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: src, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	routes := pub.Routes()
	for _, path := range []string{JWKSPath, DiscoveryPath} {
		d := routes[path]
		full := serveDoc(t, d, docRequest("GET", path, ""))
		etag := full.Header().Get("ETag")
		if full.Code != 200 || etag == "" || full.Body.Len() == 0 {
			t.Fatalf("%s: GET %d, etag %q, %d bytes", path, full.Code, etag, full.Body.Len())
		}
		for _, tc := range []struct {
			inm  string
			want int
		}{
			{"", 200},
			{etag, 304},
			{"W/" + etag, 304},
			{"*", 304},
			{`"0123", ` + etag, 304},
			{`"0123",W/` + etag, 304},
			{`"0123"`, 200},
			{`"0123", "4567"`, 200},
		} {
			rec := serveDoc(t, d, docRequest("GET", path, tc.inm))
			if rec.Code != tc.want {
				t.Errorf("%s If-None-Match %q: Serve %d, want %d", path, tc.inm, rec.Code, tc.want)
			}
			if tc.want == 304 && rec.Body.Len() != 0 {
				t.Errorf("%s If-None-Match %q: 304 with a body", path, tc.inm)
			}
			ans, ok := d.Wire(tc.inm)
			if !ok || ans.Status != tc.want || (tc.want == 304) != (ans.Body == nil) {
				t.Errorf("%s If-None-Match %q: Wire %d (ok %v, %d body bytes), want %d", path, tc.inm, ans.Status, ok, len(ans.Body), tc.want)
			}
			if ok && !strings.Contains(string(ans.Header), "Etag: "+etag+"\r\n") {
				t.Errorf("%s If-None-Match %q: Wire headers %q lack the ETag", path, tc.inm, ans.Header)
			}
		}
		head := serveDoc(t, d, docRequest(http.MethodHead, path, ""))
		if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != full.Header().Get("Content-Length") {
			t.Errorf("%s HEAD: %d, %d body bytes, Content-Length %q; want 200, none, %q", path, head.Code, head.Body.Len(),
				head.Header().Get("Content-Length"), full.Header().Get("Content-Length"))
		}
	}
}

// TestDiscoveryUnderAnIssuerPath pins, for an issuer URL with a path and a trailing slash, that
// discovery's issuer is exactly the configured one, jwks_uri has no doubled slash, both documents
// are routed under the path and at the root, and max-age 1s is still cached.
// Guards against: publish.go:239 issuer rendered without its trailing slash
// Guards against: publish.go:166 jwks_uri built without trimming the trailing slash
// Guards against: publish.go:107 route prefix keeps the trailing slash
// Guards against: publish.go:104 `cfg.MaxAge < time.Second` -> `<=` (1s served no-cache)
func TestDiscoveryUnderAnIssuerPath(t *testing.T) {
	es, _, _ := publishKeys(t)
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es}}}
	const issuer = "https://broker.example.com/tenant/"
	pub, err := NewPublisher(PublisherConfig{Issuer: issuer, Keys: src, MaxAge: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	routes := pub.Routes()
	for _, path := range []string{DiscoveryPath, JWKSPath, "/tenant" + DiscoveryPath, "/tenant" + JWKSPath} {
		if _, ok := routes[path]; !ok {
			t.Errorf("no route %s (routes %v)", path, slices.Sorted(maps.Keys(routes)))
		}
	}
	d, ok := routes["/tenant"+DiscoveryPath]
	if !ok {
		return
	}
	rec := serveDoc(t, d, docRequest("GET", "/tenant"+DiscoveryPath, ""))
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != issuer || disc.JWKSURI != "https://broker.example.com/tenant/.well-known/jwks" {
		t.Errorf("discovery issuer %q jwks_uri %q", disc.Issuer, disc.JWKSURI)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=1" {
		t.Errorf("max age 1s: Cache-Control %q, want public, max-age=1", cc)
	}
}
