package issuer

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/keys"
)

// wirePublisher returns a Publisher over a snapshot whose ES256 key signs and whose RS256
// key is published only (prepublished: not yet a signer).
func wirePublisher(t *testing.T) *Publisher {
	t.Helper()
	es, rs, _ := publishKeys(t)
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es, rs}}}
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: src, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// wireLines splits wire header lines ("Name: value\r\n" each) into name -> value, failing
// on a line that is not of that form or a name given twice.
func wireLines(t *testing.T, header []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	s := string(header)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("wire headers %q do not end in CRLF", s)
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("wire header line %q", line)
		}
		if _, dup := out[http.CanonicalHeaderKey(name)]; dup {
			t.Fatalf("wire header %s given twice", name)
		}
		out[http.CanonicalHeaderKey(name)] = value
	}
	return out
}

// TestDiscoveryListsEveryPublishedAlgorithmAndClaim pins that discovery's
// id_token_signing_alg_values_supported names the algorithm of every published key, a
// prepublished one included (a relying party caching discovery must accept a key's algorithm
// by the time it signs), and that claims_supported lists the claims tokens carry.
// Guards against: algs taken from snap.Signers instead of snap.Published in publish.go:current
// Guards against: IDTokenSigningAlgValuesSupported: only snap.Signing.Alg in publish.go:current
// Guards against: ClaimsSupported emptied in publish.go:current
func TestDiscoveryListsEveryPublishedAlgorithmAndClaim(t *testing.T) {
	pub := wirePublisher(t)
	rec := serveDoc(t, pub.Routes()[DiscoveryPath], docRequest(http.MethodGet, DiscoveryPath, ""))
	var disc struct {
		Algs   []string `json:"id_token_signing_alg_values_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
		t.Fatal(err)
	}
	algs := slices.Sorted(slices.Values(disc.Algs))
	if !slices.Equal(algs, []string{keys.ES256, keys.RS256}) {
		t.Errorf("id_token_signing_alg_values_supported = %v, want ES256 and RS256", disc.Algs)
	}
	if len(disc.Claims) == 0 || !slices.Equal(disc.Claims, claims.Supported) {
		t.Errorf("claims_supported = %v, want %v", disc.Claims, claims.Supported)
	}
	for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "scope"} {
		if !slices.Contains(disc.Claims, c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
}

// TestDocumentHeaders pins the headers of both documents, alike from Serve and in wire
// form: a 200 carries Cache-Control, a quoted ETag, Content-Type application/json and the
// body's Content-Length; a 304 carries Cache-Control and the ETag only.
// Guards against: unquoted ETag in publish.go:newDocument
// Guards against: wire304 without Cache-Control in publish.go:newDocument
// Guards against: wire headers naming the ETag under another header name in publish.go:newDocument
// Guards against: wireOK without Content-Length in publish.go:newDocument
// Guards against: Serve without Content-Type in publish.go:serve
func TestDocumentHeaders(t *testing.T) {
	pub := wirePublisher(t)
	for _, path := range []string{DiscoveryPath, JWKSPath} {
		d := pub.Routes()[path]
		rec := serveDoc(t, d, docRequest(http.MethodGet, path, ""))
		etag := rec.Header().Get("Etag")
		if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' || strings.Contains(etag[1:len(etag)-1], `"`) {
			t.Errorf("%s: ETag %q is not a quoted entity tag", path, etag)
		}
		want200 := map[string]string{
			"Cache-Control": "public, max-age=60", "Etag": etag,
			"Content-Type": "application/json", "Content-Length": rec.Header().Get("Content-Length"),
		}
		for name, value := range want200 {
			if got := rec.Header().Get(name); got != value || value == "" {
				t.Errorf("%s Serve: %s %q, want %q", path, name, got, value)
			}
		}
		if rec.Body.Len() == 0 || want200["Content-Length"] != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("%s Serve: Content-Length %q for %d body bytes", path, want200["Content-Length"], rec.Body.Len())
		}
		ok200, ok := d.Wire("")
		if !ok || ok200.Status != http.StatusOK {
			t.Fatalf("%s Wire: %d, %v", path, ok200.Status, ok)
		}
		if got := wireLines(t, ok200.Header); !maps.Equal(got, want200) {
			t.Errorf("%s Wire 200 headers %v, want %v", path, got, want200)
		}
		nm, ok := d.Wire(etag)
		if !ok || nm.Status != http.StatusNotModified {
			t.Fatalf("%s Wire with its ETag: %d, %v", path, nm.Status, ok)
		}
		want304 := map[string]string{"Cache-Control": "public, max-age=60", "Etag": etag}
		if got := wireLines(t, nm.Header); !maps.Equal(got, want304) {
			t.Errorf("%s Wire 304 headers %v, want %v", path, got, want304)
		}
	}
}

// TestIfNoneMatchComparesWholeTags pins that If-None-Match compares whole entity tags: a
// tag that merely contains the document's ETag value (a longer or altered tag) is a different
// tag and gets the full document, in Serve and in Wire.
// Guards against: substring comparison instead of equality in publish.go:etagMatches
func TestIfNoneMatchComparesWholeTags(t *testing.T) {
	pub := wirePublisher(t)
	d := pub.Routes()[JWKSPath]
	etag := serveDoc(t, d, docRequest(http.MethodGet, JWKSPath, "")).Header().Get("Etag")
	inner := strings.Trim(etag, `"`)
	for _, inm := range []string{`"` + inner + `0"`, `"x` + inner + `"`, `"` + inner[:len(inner)-1] + `"`,
		"x" + etag, etag + "x", "W/W/" + etag} {
		if rec := serveDoc(t, d, docRequest(http.MethodGet, JWKSPath, inm)); rec.Code != http.StatusOK {
			t.Errorf("If-None-Match %s: Serve %d, want 200", inm, rec.Code)
		}
		if ans, ok := d.Wire(inm); !ok || ans.Status != http.StatusOK {
			t.Errorf("If-None-Match %s: Wire %d, want 200", inm, ans.Status)
		}
	}
}

// TestMountAnswersGETAndHEADOnly pins that Mount registers the documents for GET (and so
// HEAD) only: another method on a document's path gets 405, not the document.
// Guards against: Mount registering the bare path (every method) in publish.go:Mount
func TestMountAnswersGETAndHEADOnly(t *testing.T) {
	pub := wirePublisher(t)
	mux := http.NewServeMux()
	pub.Mount(mux)
	for _, tc := range []struct {
		method string
		want   int
	}{{http.MethodGet, 200}, {http.MethodHead, 200}, {http.MethodPost, 405}, {http.MethodDelete, 405}} {
		for _, path := range []string{DiscoveryPath, JWKSPath} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(tc.method, path, nil))
			if rec.Code != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.method, path, rec.Code, tc.want)
			}
		}
	}
}
