package loadgen

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestForgedSignatureIsNotCountedAsIssuedToken pins that a token rate set against raw signing
// counts only tokens the server signed, one for each answer: a server that answers every token
// request with an RS256-shaped token whose signature is 256 zero bytes (under a kid it does not
// publish, or under the kid of the key it does publish), or that replays one token it signed
// once, passes the cheap check of every answer (alg and signature size: expectTokenOf) but has
// its figure reported as an error once the sampled tokens are verified against its JWKS.
// Guards against: figures_tokens.go:tokenLoad NewHTTPLoad(b.TokenRequest) without newVerifiedTokenLoad
// Guards against: tokensample.go:verifiedLoad.verified r.Rejected left unset
// Guards against: tokensample.go:tokenVerifier.verify the duplicate check dropped
// Guards against: figures_tokens.go:check r.Rejected ignored
func TestForgedSignatureIsNotCountedAsIssuedToken(t *testing.T) {
	iss := issuerOf(t, keys.RS256)
	for _, c := range []struct {
		name   string
		target fakeTarget
	}{
		{"all-zero signature, unpublished kid", fakeTarget{token: fakeJWS(`{"alg":"RS256","kid":"k","typ":"JWT"}`), algs: []string{keys.RS256}}},
		{"all-zero signature, published kid", fakeTarget{token: fakeJWS(`{"alg":"RS256","kid":"test-RS256","typ":"JWT"}`), issuer: iss, algs: []string{keys.RS256}}},
		{"one signed token replayed", fakeTarget{token: iss.token(), issuer: iss, algs: []string{keys.RS256}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := startFakeTarget(t, c.target)
			s := childSuite(t, 400*time.Millisecond)
			f := s.fig("token_rs256_memory")
			measure(f, func() error {
				_, err := s.tokenRate(context.Background(), b, keys.RS256, f)
				return err
			})
			f.Judge()
			if f.Status != StatusError || !strings.Contains(f.Detail, errTokenSample.Error()) {
				t.Errorf("token_rs256_memory: %s at ratio %.2f of raw RS256 (%s); want an error: the tokens are not ones the server signed for each answer",
					f.Status, f.Ratio, f.Detail)
			}
		})
	}
}

// switchTarget is a signing fakeTarget that, while forge is set, answers token requests with
// an ES256-shaped token under its published kid whose signature is 64 zero bytes.
type switchTarget struct {
	fakeTarget
	forge atomic.Bool
}

// ServeHTTP answers as switchTarget says.
func (s *switchTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/token" && s.forge.Load() {
		_ = json.NewEncoder(w).Encode(map[string]string{"token": fakeJWS(`{"alg":"ES256","kid":"test-ES256","typ":"JWT"}`)})
		return
	}
	s.fakeTarget.ServeHTTP(w, r)
}

// TestEveryRunOfATokenLoadIsVerified pins that each run of a token load, open or closed, has its
// own sample verified: a run of forged tokens after good ones is rejected (not only the
// warm-up), and a run of good tokens after a rejected one is not (the sample is reset).
// Guards against: tokensample.go:verifiedLoad.Open verification dropped
// Guards against: tokensample.go:verifiedLoad.Closed sample.reset dropped
func TestEveryRunOfATokenLoadIsVerified(t *testing.T) {
	st := &switchTarget{fakeTarget: signingTarget(issuerOf(t, keys.ES256), keys.ES256)}
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	b := Broker{URL: srv.URL, APIKey: "bench-key", Stack: "bench-stack", Alg: keys.ES256}
	ctx := context.Background()
	load, err := newVerifiedTokenLoad(ctx, b, 4, "run-token")
	if err != nil {
		t.Fatal(err)
	}
	defer load.Close()
	open := Schedule{Rate: 200, Duration: 50 * time.Millisecond} // 10 requests
	if r := load.Open(ctx, open); r.Errors != 0 || r.Count != 10 || r.Rejected != nil {
		t.Fatalf("open loop of signed tokens: %d counted, %d errors (%v), rejected: %v; want 10 counted and none rejected", r.Count, r.Errors, r.FirstErr, r.Rejected)
	}
	st.forge.Store(true)
	if r := load.Open(ctx, open); r.Count != 10 || !errors.Is(r.Rejected, errTokenSample) {
		t.Errorf("open loop of forged tokens: %d counted, rejected: %v; want them counted by the cheap check, then rejected", r.Count, r.Rejected)
	}
	st.forge.Store(false)
	if r := load.Closed(ctx, 50*time.Millisecond); r.Rejected != nil {
		t.Errorf("closed loop of signed tokens after a forged run: rejected: %v; want the sample reset", r.Rejected)
	}
	st.forge.Store(true)
	if r := load.Closed(ctx, 50*time.Millisecond); r.Count > 0 && !errors.Is(r.Rejected, errTokenSample) {
		t.Errorf("closed loop of forged tokens: %d counted, rejected: %v; want them rejected", r.Count, r.Rejected)
	}
}

// TestTokenSampleKeepsEarlyAndLateAnswers pins which answers a run samples: the first and every
// one numbered by a power of two, so that one is in the run's second half, and the latest
// lateSamples of every sampleEvery-th, so that the run's end is sampled; reset starts over.
// Guards against: tokensample.go:sampled n&(n-1) == 0 -> n == 0
// Guards against: tokensample.go:tokenSample.offer late ring overwriting the early samples
// Guards against: tokensample.go:tokenSample.reset seen left counting
func TestTokenSampleKeepsEarlyAndLateAnswers(t *testing.T) {
	var s tokenSample
	const answers = 20*sampleEvery + 7
	for n := range answers {
		s.offer([]byte(`{"token":"t` + strconv.Itoa(n) + `","expiresAt":"x"}`))
	}
	want := []int{0}
	for n := 1; n < answers; n *= 2 {
		want = append(want, n)
	}
	var late []int // multiples of sampleEvery past 0 that are no power of two
	for k := 1; k*sampleEvery < answers; k++ {
		if k&(k-1) != 0 {
			late = append(late, k*sampleEvery)
		}
	}
	want = append(want, late[len(late)-lateSamples:]...) // 12, 13, 14, 15, 17, 18, 19, 20 × sampleEvery
	slices.Sort(want)
	got := s.taken()
	if len(got) != len(want) {
		t.Fatalf("sampled %d answers %v, want %d: %v", len(got), got, len(want), want)
	}
	for i, st := range got {
		if st.n != int64(want[i]) || st.tok != "t"+strconv.Itoa(want[i]) {
			t.Errorf("sample %d: answer %d token %q, want answer %d token t%d", i, st.n, st.tok, want[i], want[i])
		}
	}
	s.reset()
	s.offer([]byte(`{"token":"again"}`))
	if got := s.taken(); len(got) != 1 || got[0].n != 0 || got[0].tok != "again" {
		t.Errorf("after reset: %v, want the one answer numbered 0", got)
	}
}

// TestTokenVerifier pins the verification of a sample: tokens each signed by a key of the
// server's JWKS pass; a replayed token, an all-zero signature, a token of another algorithm
// than the one measured, and a kid the set lacks (after fetching the set once more) fail with
// errTokenSample, without quoting the token; a kid the set gains by a rotation passes.
// Guards against: tokensample.go:tokenVerifier.verifyOne signature not verified
// Guards against: tokensample.go:tokenVerifier.verify no fetch of the set on an unknown kid
func TestTokenVerifier(t *testing.T) {
	es := issuerOf(t, keys.ES256)
	rotated, err := newTestIssuer(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	// rotated's kid is es's: a different key under the same kid is a signature that fails.
	var jwks atomic.Pointer[[]byte]
	jwks.Store(&es.jwks)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			_ = json.NewEncoder(w).Encode(map[string]string{"jwks_uri": "http://" + r.Host + "/.well-known/jwks"})
			return
		}
		_, _ = w.Write(*jwks.Load())
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	v, err := newTokenVerifier(ctx, Broker{URL: srv.URL, Alg: keys.ES256})
	if err != nil {
		t.Fatal(err)
	}
	samples := func(toks ...string) []sampledToken {
		out := make([]sampledToken, len(toks))
		for i, tok := range toks {
			out[i] = sampledToken{n: int64(i), tok: tok}
		}
		return out
	}
	one := es.token()
	rs := issuerOf(t, keys.RS256).token()
	unknownKid := strings.Replace(one, one[:strings.IndexByte(one, '.')], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"gone","typ":"JWT"}`)), 1)
	for _, c := range []struct {
		name string
		toks []string
		ok   bool
	}{
		{"signed tokens", []string{one, es.token(), es.token()}, true},
		{"a replayed token", []string{one, es.token(), one}, false},
		{"an all-zero signature", []string{one, fakeJWS(`{"alg":"ES256","kid":"test-ES256","typ":"JWT"}`)}, false},
		{"another key under the kid", []string{one, rotated.token()}, false},
		{"another algorithm", []string{rs}, false},
		{"an unknown kid", []string{unknownKid}, false},
	} {
		err := v.verify(ctx, samples(c.toks...))
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v, want verified", c.name, err)
		case !c.ok && !errors.Is(err, errTokenSample):
			t.Errorf("%s: %v, want errTokenSample", c.name, err)
		}
		for _, tok := range c.toks {
			if err != nil && strings.Contains(err.Error(), tok) {
				t.Errorf("%s: the error quotes a token: %v", c.name, err)
			}
		}
	}
	// A rotation: the server publishes a new key under a new kid; the verifier fetches its set again.
	next, err := newTestIssuerWithKid(keys.ES256, "next")
	if err != nil {
		t.Fatal(err)
	}
	jwks.Store(&next.jwks)
	if err := v.verify(ctx, samples(next.token())); err != nil {
		t.Errorf("a token under a kid published after the verifier fetched the set: %v, want verified after fetching it again", err)
	}
}
