package oidctrust

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Failure kinds. Every error Verify returns wraps exactly one of them.
var (
	ErrMalformed = errors.New("token is malformed")
	ErrAlgorithm = errors.New("token algorithm is not allowed")
	ErrIssuer    = errors.New("token issuer is not trusted")
	ErrDiscovery = errors.New("issuer discovery or JWKS could not be fetched")
	ErrSignature = errors.New("token signature does not verify")
	ErrAudience  = errors.New("token audience is not allowed")
	ErrExpired   = errors.New("token is expired or not yet valid")
	ErrLifetime  = errors.New("token lives longer than the service allows")
	ErrTooOld    = errors.New("token was issued too long ago")
)

// Policy is what one trust relationship accepts.
type Policy struct {
	// Issuer must equal the token's iss exactly (no trailing-slash leniency).
	Issuer string
	// Audiences lists accepted aud values; the token's aud (string or list) must hold one.
	Audiences []string
	// Algorithms is the signature allow-list.
	Algorithms []string
	// JSONSerialization also takes a JWS in the JSON serialization, as Vault's verifier does.
	// A JWT is a compact JWS, and the clouds' token services take nothing else.
	JSONSerialization bool
	// UnboundAudience, with no Audiences, takes a token that carries no aud (or an empty
	// list), as a Vault role without bound_audiences does; one carrying an aud still fails.
	// Without it, no Audiences takes no token.
	UnboundAudience bool
	// RequireKID refuses a token whose header names no kid (Google STS requires one); without
	// it, every published key is tried.
	RequireKID bool
	// RequireIat refuses a token without iat (Google STS requires one).
	RequireIat bool
	// MaxLifetime, when set, refuses a token whose exp is not less than MaxLifetime after its
	// iat (Google STS: 48 hours).
	MaxLifetime time.Duration
	// StrictExp takes no skew on exp: the token is refused from its exp on (AWS STS: "current
	// date/time must be before the expiration date/time").
	StrictExp bool
	// MaxAge, when set, refuses a token issued (iat) more than MaxAge ago, whatever its exp
	// (AWS STS: "Token too old"), as ErrTooOld.
	MaxAge time.Duration
}

// ParseError is a token that does not parse as a JWS signed with an allowed algorithm.
type ParseError struct {
	// Kind is ErrAlgorithm when the header names an algorithm outside the allow-list, else
	// ErrMalformed.
	Kind error
	// Reason is the JWS parser's own words.
	Reason string
}

// Error says what kind of failure it is, and why.
func (e *ParseError) Error() string { return e.Kind.Error() + ": " + e.Reason }

// Is reports whether target is e's Kind.
func (e *ParseError) Is(target error) bool { return target == e.Kind }

// Claims are the verified token's claims.
type Claims map[string]any

// String returns a string claim, "" when absent or not a string.
func (c Claims) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Audiences returns aud as a list.
func (c Claims) Audiences() []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Verifier checks tokens. It fetches discovery and JWKS on every verification (no cache), so a
// key that left the JWKS is refused at once.
type Verifier struct {
	// HTTP fetches discovery and JWKS; nil means a client like http.DefaultClient. Either way
	// a redirect to plain http on a host other than loopback is refused.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Skew tolerated on exp, nbf and iat (default 5 minutes, as STS services allow).
	Skew time.Duration
}

// parse reads token as p takes it: a compact JWS in its exact text (see checkCompact), or
// either serialization with p.JSONSerialization, signed with an algorithm of p.Algorithms.
func parse(token string, p Policy) (*jose.JSONWebSignature, error) {
	algs := make([]jose.SignatureAlgorithm, 0, len(p.Algorithms))
	for _, a := range p.Algorithms {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	read := jose.ParseSignedCompact
	if !p.JSONSerialization {
		if err := checkCompact(token); err != nil {
			return nil, err
		}
	} else {
		//lint:ignore SA1019 Vault's verifier parses with ParseSigned, and so does its emulator.
		read = jose.ParseSigned
	}
	jws, err := read(token, algs)
	if err != nil {
		kind := ErrMalformed
		if strings.Contains(err.Error(), "unexpected signature algorithm") {
			kind = ErrAlgorithm
		}
		return nil, &ParseError{Kind: kind, Reason: err.Error()}
	}
	return jws, nil
}

// Verify checks token against p and returns its claims. Unless p.JSONSerialization, token
// must be a JWT, which is a compact JWS; a JWS in the JSON serialization is ErrMalformed.
func (v *Verifier) Verify(ctx context.Context, token string, p Policy) (Claims, error) {
	jws, err := parse(token, p)
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 { // only the JSON serialization can carry more than one
		return nil, fmt.Errorf("%w: %d signatures, and one must verify alone", ErrSignature, len(jws.Signatures))
	}
	if p.RequireKID && jws.Signatures[0].Header.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid header", ErrMalformed)
	}
	var claims Claims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	iss := claims.String("iss")
	if iss == "" || iss != p.Issuer {
		return nil, fmt.Errorf("%w: %q", ErrIssuer, iss)
	}
	if err := checkIssuerURL(iss); err != nil {
		return nil, err
	}
	keys, err := v.fetchKeys(ctx, iss)
	if err != nil {
		return nil, err
	}
	if !signedBy(jws, keys) {
		return nil, fmt.Errorf("%w: no published key (kid %q) verifies it", ErrSignature, jws.Signatures[0].Header.KeyID)
	}
	if err := checkClaimTypes(jws.UnsafePayloadWithoutVerification()); err != nil {
		return nil, err
	}
	unbound := p.UnboundAudience && len(p.Audiences) == 0 && len(claims.Audiences()) == 0
	if !unbound && !slices.ContainsFunc(claims.Audiences(), func(a string) bool { return slices.Contains(p.Audiences, a) }) {
		return nil, fmt.Errorf("%w: %v not in %v", ErrAudience, claims.Audiences(), p.Audiences)
	}
	return claims, v.checkTimes(claims, p)
}

// SignedBy reports whether token, read as p takes it, carries one signature, in an algorithm of
// p.Algorithms, that a key in p.Issuer's JWKS verifies, whatever its claims say. Services that
// check the signature before the issuer (Vault) use it to word their refusal.
func (v *Verifier) SignedBy(ctx context.Context, token string, p Policy) (bool, error) {
	jws, err := parse(token, p)
	if err != nil || len(jws.Signatures) != 1 {
		return false, nil
	}
	if err := checkIssuerURL(p.Issuer); err != nil {
		return false, err
	}
	keys, err := v.fetchKeys(ctx, p.Issuer)
	if err != nil {
		return false, err
	}
	return signedBy(jws, keys), nil
}

// signedBy reports whether a key of keys (the one named by kid, when the header names one)
// verifies jws.
func signedBy(jws *jose.JSONWebSignature, keys *jose.JSONWebKeySet) bool {
	kid := jws.Signatures[0].Header.KeyID
	candidates := keys.Keys
	if kid != "" {
		candidates = keys.Key(kid)
	}
	for _, k := range candidates {
		if _, err := jws.Verify(k.Key); err == nil {
			return true
		}
	}
	return false
}

func (v *Verifier) checkTimes(c Claims, p Policy) error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	skew := v.Skew
	if skew == 0 {
		skew = 5 * time.Minute
	}
	expNum, ok := c["exp"].(float64)
	if !ok {
		return fmt.Errorf("%w: no exp claim", ErrMalformed)
	}
	exp := dateOf(expNum)
	expired := now.After(exp.Add(skew))
	if p.StrictExp {
		expired = !now.Before(exp)
	}
	if expired {
		return fmt.Errorf("%w: expired at %s", ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if nbfNum, ok := c["nbf"].(float64); ok && now.Add(skew).Before(dateOf(nbfNum)) {
		return fmt.Errorf("%w: not valid before %s", ErrExpired, dateOf(nbfNum).UTC().Format(time.RFC3339))
	}
	iatNum, hasIat := c["iat"].(float64)
	if !hasIat && p.RequireIat {
		return fmt.Errorf("%w: no iat claim", ErrMalformed)
	}
	if !hasIat {
		return nil
	}
	iat := dateOf(iatNum)
	if now.Add(skew).Before(iat) {
		return fmt.Errorf("%w: issued in the future", ErrExpired)
	}
	if p.MaxAge > 0 && now.Sub(iat) > p.MaxAge {
		return fmt.Errorf("%w: issued %d s ago, the most is %s", ErrTooOld, int64(now.Sub(iat).Seconds()), p.MaxAge)
	}
	if p.MaxLifetime > 0 && expNum-iatNum >= p.MaxLifetime.Seconds() {
		return fmt.Errorf("%w: exp is %.0f s after iat, the most is less than %s", ErrLifetime, expNum-iatNum, p.MaxLifetime)
	}
	return nil
}

// lastNumericDate is 9999-12-31T23:59:59Z, the last second a time.Time formats as RFC 3339.
const lastNumericDate = 253402300799

// dateOf is the time a NumericDate names, held within the years 0001 and 9999 so that a
// date far in the future stays in the future (and one far in the past in the past) instead of
// wrapping around an int64 conversion.
func dateOf(seconds float64) time.Time {
	switch {
	case seconds > lastNumericDate:
		seconds = lastNumericDate
	case seconds < -62135596800: // 0001-01-01T00:00:00Z
		seconds = -62135596800
	}
	return time.Unix(int64(seconds), 0)
}

// checkIssuerURL requires https, except for loopback issuers so broker can be tried locally.
func checkIssuerURL(iss string) error {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: %q is not a URL", ErrIssuer, iss)
	}
	if !private(u) {
		return fmt.Errorf("%w: %q is not https", ErrIssuer, iss)
	}
	return nil
}

// private reports whether a document fetched from u reaches the verifier unseen and unchanged
// on the way: u is https, or plain http on a loopback host. The issuer, its jwks_uri and every
// redirect on the way to either must be.
func private(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback()))
}

const maxDocument = 1 << 20

func (v *Verifier) fetchKeys(ctx context.Context, iss string) (*jose.JSONWebKeySet, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	if disc.Issuer != iss {
		return nil, fmt.Errorf("%w: discovery names issuer %q, token %q", ErrDiscovery, disc.Issuer, iss)
	}
	if disc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: discovery has no jwks_uri", ErrDiscovery)
	}
	if u, err := url.Parse(disc.JWKSURI); err != nil || u.Host == "" || !private(u) {
		return nil, fmt.Errorf("%w: jwks_uri %q is not https", ErrDiscovery, disc.JWKSURI)
	}
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

func (v *Verifier) getJSON(ctx context.Context, u string, out any) error {
	client := http.Client{}
	if v.HTTP != nil {
		client = *v.HTTP
	}
	follow := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !private(req.URL) {
			return fmt.Errorf("redirected to %s, which is not https", req.URL.Redacted())
		}
		if follow != nil {
			return follow(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", ErrDiscovery, u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDiscovery, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %s is not JSON: %v", ErrDiscovery, u, err)
	}
	return nil
}
