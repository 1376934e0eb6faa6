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
	// MaxAge is the Cache-Control max-age of both documents; it must be shorter than the
	// rotation's prepublish period so no relying party caches a JWKS that lacks the next key
	// when that key starts signing.
	MaxAge time.Duration
}

// Publisher serves the discovery document and the JWKS. Both are rendered once per key-set
// version and then served from memory.
type Publisher struct {
	cfg    PublisherConfig
	prefix string
	cached atomic.Pointer[documents]
}

type documents struct {
	version       string
	discovery     []byte
	discoveryETag string
	jwks          []byte
	jwksETag      string
}

// NewPublisher returns a Publisher.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer url: %w", err)
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Minute
	}
	return &Publisher{cfg: cfg, prefix: strings.TrimSuffix(u.Path, "/")}, nil
}

// Mount registers the discovery and JWKS routes, at the root and under the issuer's path when it has one.
func (p *Publisher) Mount(mux *http.ServeMux) {
	prefixes := []string{""}
	if p.prefix != "" {
		prefixes = append(prefixes, p.prefix)
	}
	for _, prefix := range prefixes {
		mux.HandleFunc("GET "+prefix+DiscoveryPath, p.serve(func(d *documents) ([]byte, string) { return d.discovery, d.discoveryETag }))
		mux.HandleFunc("GET "+prefix+JWKSPath, p.serve(func(d *documents) ([]byte, string) { return d.jwks, d.jwksETag }))
	}
}

// JWKSURL is the absolute jwks_uri.
func (p *Publisher) JWKSURL() string { return strings.TrimSuffix(p.cfg.Issuer, "/") + JWKSPath }

func (p *Publisher) serve(pick func(*documents) ([]byte, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		docs, err := p.current()
		if err != nil {
			apierror.Write(w, apierror.New(apierror.CodeUnavailable, "The signing keys are not available: %v.", err))
			return
		}
		body, etag := pick(docs)
		h := w.Header()
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(p.cfg.MaxAge/time.Second)))
		h.Set("ETag", etag)
		if etagMatches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}
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
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(snap.Published))}
	var algs []string
	for _, k := range snap.Published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: "sig"})
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
	d := &documents{version: snap.Version, discovery: disc, discoveryETag: etagOf(disc), jwks: jwks, jwksETag: etagOf(jwks)}
	p.cached.Store(d)
	return d, nil
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatches implements If-None-Match's weak comparison over a list of tags.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}
