package loadgen

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// errTokenSample marks a run whose sampled tokens are not tokens the server issued: a
// signature no key of its JWKS makes, or one token answered twice.
var errTokenSample = errors.New("a sampled token is not one the server signed for this answer")

// Sampling of a run's tokens: the answers numbered by a power of two (the 1st, 2nd, 3rd, 5th,
// 9th, … — the first and one in the run's second half among them) and, of every sampleEvery-th
// answer, the latest lateSamples, so the end of a long run is sampled too.
const (
	sampleEvery = 1024
	lateSamples = 8
)

// sampledToken is a token one answer of a run held.
type sampledToken struct {
	// n is the answer's number in the run, from 0.
	n   int64
	tok string
}

// tokenSample keeps a few of the tokens a run's answers held, so that after the run their
// signatures can be verified and compared (tokenVerifier). Offering an answer costs one atomic
// add; only a sampled answer takes the lock and copies its token, so the check of every answer
// stays cheap. It is safe for concurrent use (the goroutine workers offer at once).
type tokenSample struct {
	seen  atomic.Int64
	mu    sync.Mutex
	early []sampledToken
	late  [lateSamples]sampledToken
	lateN int
}

// sampled reports whether the answer numbered n (from 0) is sampled, and whether as an early
// one (a power of two, 0 included) or a late one (a multiple of sampleEvery).
func sampled(n int64) (ok, early bool) {
	if n&(n-1) == 0 {
		return true, true
	}
	return n%sampleEvery == 0, false
}

// offer counts an accepted token answer, body, and keeps its token when the answer is sampled.
func (s *tokenSample) offer(body []byte) {
	n := s.seen.Add(1) - 1
	ok, early := sampled(n)
	if !ok {
		return
	}
	tok, _ := tokenIn(body)
	st := sampledToken{n: n, tok: string(tok)} // a copy: the driver reuses body's buffer
	s.mu.Lock()
	defer s.mu.Unlock()
	if early {
		s.early = append(s.early, st)
		return
	}
	s.late[s.lateN%lateSamples] = st
	s.lateN++
}

// reset forgets the previous run's answers.
func (s *tokenSample) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Store(0)
	s.early = s.early[:0]
	s.late, s.lateN = [lateSamples]sampledToken{}, 0
}

// taken returns the sampled tokens in the order of their answers.
func (s *tokenSample) taken() []sampledToken {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.early)
	out = append(out, s.late[:min(s.lateN, lateSamples)]...)
	slices.SortFunc(out, func(a, b sampledToken) int { return cmp.Compare(a.n, b.n) })
	return out
}

// tokenVerifier verifies sampled tokens against the key set the server publishes (its
// discovery document's jwks_uri, fetched from the server's own URL as Broker.Public does).
type tokenVerifier struct {
	broker Broker
	algs   []jose.SignatureAlgorithm
	set    jose.JSONWebKeySet
}

// newTokenVerifier fetches b's key set; tokens must be signed with b.Alg when it is set, else
// with RS256 or ES256, the algorithms the load program knows.
func newTokenVerifier(ctx context.Context, b Broker) (*tokenVerifier, error) {
	v := &tokenVerifier{broker: b, algs: []jose.SignatureAlgorithm{jose.RS256, jose.ES256}}
	if b.Alg != "" {
		v.algs = []jose.SignatureAlgorithm{jose.SignatureAlgorithm(b.Alg)}
	}
	if err := v.fetch(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// fetch reads the server's key set again.
func (v *tokenVerifier) fetch(ctx context.Context) error {
	docs, err := v.broker.Public(ctx)
	if err != nil {
		return fmt.Errorf("the key set to verify tokens with: %w", err)
	}
	set, err := parseKeySet(docs.JWKS)
	if err != nil {
		return fmt.Errorf("the key set to verify tokens with, %s: %w", docs.JWKSURL, err)
	}
	v.set = set
	return nil
}

// parseKeySet reads the public keys of a JWKS document; a key it cannot read (another key
// type) is left out rather than failing the set.
func parseKeySet(raw []byte) (jose.JSONWebKeySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return jose.JSONWebKeySet{}, fmt.Errorf("not a JSON key set: %w", err)
	}
	var set jose.JSONWebKeySet
	for _, k := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(k); err == nil && jwk.Valid() && jwk.IsPublic() {
			set.Keys = append(set.Keys, jwk)
		}
	}
	return set, nil
}

// verify checks the sampled tokens of a run: no two are the same token (each answer must be a
// token issued for it: with a jti of its own, and an ES256 signature is never made twice), and
// each one's signature verifies with a key of the server's set, fetched again once when a token
// names a kid the set lacks (a rotation). Its errors never quote a token.
func (v *tokenVerifier) verify(ctx context.Context, samples []sampledToken) error {
	first := make(map[string]int64, len(samples))
	refetched := false
	for _, s := range samples {
		if n, dup := first[s.tok]; dup {
			return fmt.Errorf("answers %d and %d of the run held the same token, a replay: %w", n+1, s.n+1, errTokenSample)
		}
		first[s.tok] = s.n
		err := v.verifyOne(s.tok)
		if errors.Is(err, jose.ErrJWKSKidNotFound) && !refetched {
			refetched = true
			if ferr := v.fetch(ctx); ferr != nil {
				return ferr
			}
			err = v.verifyOne(s.tok)
		}
		if err != nil {
			return fmt.Errorf("the token of answer %d of the run: %w: %w", s.n+1, errTokenSample, err)
		}
	}
	return nil
}

// verifyOne checks that tok is a compact JWS of an allowed algorithm whose signature verifies
// with a key of the set: the one its kid names, or, without a kid, any; the error is
// jose.ErrJWKSKidNotFound when the set has no key of that kid.
func (v *tokenVerifier) verifyOne(tok string) error {
	jws, err := jose.ParseSignedCompact(tok, v.algs)
	if err != nil {
		return fmt.Errorf("not a compact JWS signed with %v: %w", v.algs, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	candidates := v.set.Keys
	if kid != "" {
		candidates = v.set.Key(kid)
	}
	if len(candidates) == 0 {
		return fmt.Errorf("kid %q: %w", kid, jose.ErrJWKSKidNotFound)
	}
	for _, k := range candidates {
		if _, err := jws.Verify(k.Key); err == nil {
			return nil
		}
	}
	return fmt.Errorf("its signature verifies with no key of the server's JWKS (kid %q)", kid)
}

// verifiedLoad is an HTTPLoad of token requests whose every run (closed or open) is followed
// by the verification of a sample of its tokens: a run whose sampled tokens repeat, or are not
// signed by a key of the server's JWKS, carries the reason in its Result's Rejected, which
// check makes the measurement's error. The check of every answer stays the cheap one of the
// request (expectToken, expectTokenOf), plus an atomic count.
type verifiedLoad struct {
	HTTPLoad
	sample   *tokenSample
	verifier *tokenVerifier
}

// newVerifiedTokenLoad returns a load of clients connections asking b for tokens with
// runToken, verifying a sample of each run's tokens against b's key set, fetched now.
func newVerifiedTokenLoad(ctx context.Context, b Broker, clients int, runToken string) (*verifiedLoad, error) {
	v, err := newTokenVerifier(ctx, b)
	if err != nil {
		return nil, err
	}
	sample := &tokenSample{}
	req := b.TokenRequest(runToken)
	each := req.Check
	req.Check = func(status int, body []byte) error {
		if err := each(status, body); err != nil {
			return err
		}
		sample.offer(body)
		return nil
	}
	return &verifiedLoad{HTTPLoad: NewHTTPLoad(clients, req), sample: sample, verifier: v}, nil
}

// Closed runs the closed loop for d and verifies its sampled tokens.
func (l *verifiedLoad) Closed(ctx context.Context, d time.Duration) Result {
	l.sample.reset()
	return l.verified(ctx, l.HTTPLoad.Closed(ctx, d))
}

// Open runs the schedule s and verifies its sampled tokens.
func (l *verifiedLoad) Open(ctx context.Context, s Schedule) Result {
	l.sample.reset()
	return l.verified(ctx, l.HTTPLoad.Open(ctx, s))
}

// verified returns r, rejected when the run's sampled tokens fail verification; a run cut
// short by ctx is returned as it is (it is not measured).
func (l *verifiedLoad) verified(ctx context.Context, r Result) Result {
	if ctx.Err() != nil {
		return r
	}
	if err := l.verifier.verify(ctx, l.sample.taken()); err != nil {
		r.Rejected = err
	}
	return r
}
