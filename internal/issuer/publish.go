package issuer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/keys"
)

// Well-known paths, relative to the issuer URL's path.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/.well-known/jwks"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Issuer is the exact issuer URL; discovery is served under its path.
	Issuer string
	// Keys supplies the published keys.
	Keys KeySource
	// MaxAge is the Cache-Control max-age of both documents, in whole seconds; it must be
	// shorter than the rotation's prepublish period so no relying party caches a JWKS that lacks
	// the next key when that key starts signing. Under a second, the documents are served with
	// no-cache.
	MaxAge time.Duration
}

// Publisher serves the discovery document and the JWKS. Both are rendered once per key-set
// version, with their headers, and then served from memory without allocating.
type Publisher struct {
	cfg    PublisherConfig
	prefix string
	// cacheControl is the one Cache-Control value of both documents.
	cacheControl []string
	cached       atomic.Pointer[documents]
}

// documents are the rendered documents of one key-set version.
type documents struct {
	version   string
	discovery document
	jwks      document
}

// document is one rendered document: its body and the values of its headers, each a slice
// of length and capacity 1 that every answer shares (an Add to the answer's header copies),
// and the same headers in wire form for the answers of 200 and 304.
type document struct {
	body            []byte
	etag            string
	etagValue       []string
	contentLength   []string
	wireOK, wire304 []byte
}

// jsonContentType is the Content-Type value of both documents.
var jsonContentType = []string{"application/json"}

// newDocument renders the document of body, served with the Cache-Control value cacheControl.
func newDocument(body []byte, cacheControl string) document {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	d := document{
		body: body, etag: etag, etagValue: []string{etag},
		contentLength: []string{strconv.Itoa(len(body))},
	}
	d.wire304 = appendWireHeader(nil, "Cache-Control", cacheControl)
	d.wire304 = appendWireHeader(d.wire304, "Etag", etag)
	d.wireOK = appendWireHeader(slices.Clone(d.wire304), "Content-Type", jsonContentType[0])
	d.wireOK = appendWireHeader(d.wireOK, "Content-Length", d.contentLength[0])
	return d
}

// appendWireHeader appends the header line "name: value\r\n" to dst.
func appendWireHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// NewPublisher returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer url: %w", err)
	}
	cc := "public, max-age=" + strconv.Itoa(int(cfg.MaxAge/time.Second))
	if cfg.MaxAge < time.Second {
		cc = "no-cache"
	}
	return &Publisher{cfg: cfg, prefix: strings.TrimSuffix(u.Path, "/"), cacheControl: []string{cc}}, nil
}

// DocumentHandler answers one GET or HEAD of a public document and returns the status it
// answered with.
type DocumentHandler func(w http.ResponseWriter, r *http.Request) int

// WireAnswer is a document's answer in wire form: its status, its header lines (each ending in
// CRLF; the status line, Date, X-Request-Id and the blank line are the caller's) and its body,
// which a 304 and every answer to HEAD leave out. The slices are shared: never modify them.
type WireAnswer struct {
	Status int
	Header []byte
	Body   []byte
}

// WireHandler answers a GET or HEAD of a document in wire form, ifNoneMatch being the request's
// If-None-Match value ("" when it has none). It answers what the document's DocumentHandler
// answers with 200 or 304; false means the documents cannot be served now, and the request
// must go to the DocumentHandler, which answers with the error.
type WireHandler func(ifNoneMatch string) (WireAnswer, bool)

// Document is one public document's two handlers, which answer alike.
type Document struct {
	Serve DocumentHandler
	Wire  WireHandler
}

// Routes returns each public document by its exact path: discovery and JWKS, at the root and
// under the issuer's path when it has one. They answer GET and HEAD.
func (p *Publisher) Routes() map[string]Document {
	prefixes := []string{""}
	if p.prefix != "" {
		prefixes = append(prefixes, p.prefix)
	}
	discovery := func(d *documents) *document { return &d.discovery }
	jwks := func(d *documents) *document { return &d.jwks }
	routes := map[string]Document{}
	for _, prefix := range prefixes {
		routes[prefix+DiscoveryPath] = Document{Serve: p.serve(discovery), Wire: p.wire(discovery)}
		routes[prefix+JWKSPath] = Document{Serve: p.serve(jwks), Wire: p.wire(jwks)}
	}
	return routes
}

// Mux is where Mount registers routes: an *http.ServeMux, or a router that also answers the
// other methods of a registered path with 405.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Mount registers the discovery and JWKS routes (Routes) on mux, for GET (and so HEAD).
func (p *Publisher) Mount(mux Mux) {
	for path, d := range p.Routes() {
		mux.Handle("GET "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.Serve(w, r) }))
	}
}

// JWKSURL is the absolute jwks_uri.
func (p *Publisher) JWKSURL() string { return strings.TrimSuffix(p.cfg.Issuer, "/") + JWKSPath }

func (p *Publisher) serve(pick func(*documents) *document) DocumentHandler {
	return func(w http.ResponseWriter, r *http.Request) int {
		docs, err := p.current()
		if err != nil {
			apierror.Write(w, apierror.New(apierror.CodeUnavailable, "The signing keys are not available: %v.", err))
			return http.StatusServiceUnavailable
		}
		d := pick(docs)
		h := w.Header()
		h["Cache-Control"] = p.cacheControl
		h["Etag"] = d.etagValue
		if anyETagMatches(r.Header["If-None-Match"], d.etag) {
			w.WriteHeader(http.StatusNotModified)
			return http.StatusNotModified
		}
		h["Content-Type"] = jsonContentType
		h["Content-Length"] = d.contentLength
		if r.Method != http.MethodHead {
			_, _ = w.Write(d.body)
		}
		return http.StatusOK
	}
}

// wire returns the WireHandler of the document pick chooses: 304 when ifNoneMatch names its
// ETag, else 200 with its body; false when the documents cannot be rendered now.
func (p *Publisher) wire(pick func(*documents) *document) WireHandler {
	return func(ifNoneMatch string) (WireAnswer, bool) {
		docs, err := p.current()
		if err != nil {
			return WireAnswer{}, false
		}
		d := pick(docs)
		if etagMatches(ifNoneMatch, d.etag) {
			return WireAnswer{Status: http.StatusNotModified, Header: d.wire304}, true
		}
		return WireAnswer{Status: http.StatusOK, Header: d.wireOK, Body: d.body}, true
	}
}

// KeySet is the JWKS of snap: its published keys' public halves, each with its kid, algorithm
// and use.
func KeySet(snap *keys.Snapshot) *jose.JSONWebKeySet {
	set := &jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(snap.Published))}
	for _, k := range snap.Published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
	}
	return set
}

// current returns the documents for the current key snapshot, rendering them when it changed.
func (p *Publisher) current() (*documents, error) {
	snap := p.cfg.Keys.Snapshot()
	if snap == nil {
		return nil, ErrNoSigningKey
	}
	if d := p.cached.Load(); d != nil && d.version == snap.Version {
		return d, nil
	}
	set := KeySet(snap)
	var algs []string
	for _, k := range snap.Published {
		if !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	disc, err := json.Marshal(oidc.DiscoveryConfiguration{
		Issuer:                           p.cfg.Issuer,
		JwksURI:                          p.JWKSURL(),
		ResponseTypesSupported:           []string{"id_token"},
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: algs,
		ClaimsSupported:                  claims.Supported,
		ScopesSupported:                  []string{"openid"},
	})
	if err != nil {
		return nil, fmt.Errorf("encode discovery: %w", err)
	}
	cc := p.cacheControl[0]
	d := &documents{version: snap.Version, discovery: newDocument(disc, cc), jwks: newDocument(jwks, cc)}
	p.cached.Store(d)
	return d, nil
}

// anyETagMatches applies etagMatches to each If-None-Match line: lines of one header form one
// list, as if joined by commas.
func anyETagMatches(lines []string, etag string) bool {
	for _, line := range lines {
		if etagMatches(line, etag) {
			return true
		}
	}
	return false
}

// etagMatches implements If-None-Match's weak comparison over a list of tags.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for rest := header; ; {
		candidate, next, more := strings.Cut(rest, ",")
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
		if !more {
			return false
		}
		rest = next
	}
}
