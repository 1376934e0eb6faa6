package vaultemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

// ClockSkewLeeway is Vault's default clock_skew_leeway for JWT roles: the slack allowed on
// exp, nbf and iat.
const ClockSkewLeeway = 60 * time.Second

// DefaultTTL is a role's token TTL when Role leaves it unset (Vault's system default is 768h;
// an hour keeps emulated tokens short-lived).
const DefaultTTL = time.Hour

// maxRequestBytes caps a request body.
const maxRequestBytes = 1 << 20

// signingAlgorithms are the algorithms Vault's JWT auth accepts when a mount names none.
var signingAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// Role is a JWT auth role.
type Role struct {
	// Name is the role's name, sent as "role" at login.
	Name string
	// BoundAudiences: a token's aud must hold one of them. A role without any refuses every
	// token that carries an aud, and takes one that carries none, as Vault does.
	BoundAudiences []string
	// UserClaim is the claim naming the user; a token without it is refused.
	UserClaim string
	// BoundClaims maps a claim to its allowed values; the token's claim must equal one of them.
	BoundClaims map[string][]string
	// Policies are the token policies granted (Vault adds "default").
	Policies []string
	// TTL is the token's lifetime (default DefaultTTL).
	TTL time.Duration
}

// Mount is one JWT auth method.
type Mount struct {
	// Path is where it is enabled, without "auth/" (for example "jwt").
	Path string
	// BoundIssuer must equal a token's iss exactly; its discovery document and JWKS verify the
	// signature.
	BoundIssuer string
	// Roles are the mount's roles; the first of a duplicate name wins.
	Roles []Role
}

// Config configures an Emulator.
type Config struct {
	// Mounts are the JWT auth methods enabled.
	Mounts []Mount
	// Verifier validates tokens; nil means an oidctrust.Verifier on Now with ClockSkewLeeway.
	Verifier *oidctrust.Verifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Emulator is an http.Handler serving Vault's API under /v1. It is safe for concurrent use.
type Emulator struct {
	mounts   map[string]Mount
	verifier *oidctrust.Verifier
	now      func() time.Time

	mu     sync.Mutex
	tokens map[string]issued
}

// issued is a token the emulator handed out.
type issued struct {
	accessor string
	role     string
	// user is the user claim's value, the entity alias's name; entityID the entity's id.
	user, entityID string
	mount          string
	policies       []string
	meta           map[string]string
	issuedAt       time.Time
	ttl            time.Duration
}

// New returns an emulator serving cfg's mounts.
func New(cfg Config) *Emulator {
	e := &Emulator{mounts: map[string]Mount{}, verifier: cfg.Verifier, now: cfg.Now, tokens: map[string]issued{}}
	if e.now == nil {
		e.now = time.Now
	}
	if e.verifier == nil {
		e.verifier = &oidctrust.Verifier{Now: e.now, Skew: ClockSkewLeeway}
	}
	for _, m := range cfg.Mounts {
		path := strings.Trim(m.Path, "/")
		if _, dup := e.mounts[path]; dup {
			continue
		}
		m.Path, m.Roles = path, slices.Clone(m.Roles)
		e.mounts[path] = m
	}
	return e
}

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErrors(w, http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPatch && !patchContentType(w, r) {
		return
	}
	if path == "auth/token/lookup-self" {
		e.lookupSelf(w, r)
		return
	}
	if path == "auth/token/revoke-self" {
		e.revokeSelf(w, r)
		return
	}
	if mount, ok := strings.CutSuffix(strings.TrimPrefix(path, "auth/"), "/login"); ok && strings.HasPrefix(path, "auth/") {
		if _, known := e.mounts[mount]; known {
			e.login(w, r, mount)
			return
		}
	}
	// A route the emulator does not serve is one its tokens have no policy for.
	if _, _, refused := e.denied(w, r); !refused {
		writeErrors(w, http.StatusForbidden, deniedPolicy)
	}
}

// patchContentType answers a PATCH whose body is not a JSON merge patch as Vault does before it
// looks at the token or the path (400 for a Content-Type that does not parse, 415 for another
// type), and reports whether the request may go on.
func patchContentType(w http.ResponseWriter, r *http.Request) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		writeErrors(w, http.StatusBadRequest, err.Error())
		return false
	}
	if mediaType != "application/merge-patch+json" {
		writeErrors(w, http.StatusUnsupportedMediaType, "PATCH requires Content-Type of application/merge-patch+json, provided "+mediaType)
		return false
	}
	return true
}

// writeErrors answers Vault's error document.
func writeErrors(w http.ResponseWriter, status int, messages ...string) {
	if messages == nil {
		messages = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": messages})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// randomID returns n random bytes, base64url-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newUUID returns a random version 4 UUID, as Vault's request ids and entity ids are.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0x0f])
	}
	return string(out)
}
