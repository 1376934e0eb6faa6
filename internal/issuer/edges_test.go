package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// TestMintedClaims: nbf is backdated by NotBeforeSkew (at most the contract's 60 s), the
// jti carries 128 random bits, and the AWS session tags name the run's own space, stack, run
// and current scope: a read run's tags say read.
func TestMintedClaims(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	run := benchRun()
	run.Phase, run.Scope = runs.Planning, runs.Read
	tok, err := iss.Mint(context.Background(), Request{Run: run, AWSSessionTags: true})
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if NotBeforeSkew <= 0 || NotBeforeSkew > 60*time.Second {
		t.Errorf("NotBeforeSkew %v, want in (0, 60s]", NotBeforeSkew)
	}
	if c.NotBefore != c.IssuedAt-int64(NotBeforeSkew/time.Second) {
		t.Errorf("nbf %d, iat %d: want nbf backdated by %v", c.NotBefore, c.IssuedAt, NotBeforeSkew)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(c.ID); err != nil || len(raw) < 16 {
		t.Errorf("jti %q carries %d bytes (%v), want at least 16", c.ID, len(raw), err)
	}
	if c.Issuer != "https://broker.example.com" || c.Audience != "sts.amazonaws.com" || c.CallerID != "app-a" || c.Scope != runs.Read {
		t.Errorf("claims %+v", c)
	}
	if c.AWSTags == nil {
		t.Fatal("no session tags")
	}
	want := map[string][]string{"space": {"team-a"}, "stack": {"app-a"}, "run": {run.ID}, "scope": {"read"}}
	if !reflect.DeepEqual(c.AWSTags.PrincipalTags, want) {
		t.Errorf("session tags %v, want %v", c.AWSTags.PrincipalTags, want)
	}
}

// TestNewRequiresPositiveTTL: an Issuer needs a positive TTL.
func TestNewRequiresPositiveTTL(t *testing.T) {
	good, _ := newBenchIssuer(t, "ES256")
	for _, ttl := range []time.Duration{0, -time.Second} {
		cfg := good.cfg
		cfg.TTL = ttl
		if _, err := New(cfg); err == nil {
			t.Errorf("New with TTL %v accepted", ttl)
		}
	}
}

// snapKeys is a KeySource with a fixed snapshot.
type snapKeys struct{ snap *keys.Snapshot }

func (s snapKeys) Snapshot() *keys.Snapshot { return s.snap }

// TestMintWithoutSigningKey: a snapshot whose signing key is not there yet (published keys
// only, or none) gets ErrNoSigningKey, not a panic.
func TestMintWithoutSigningKey(t *testing.T) {
	good, _ := newBenchIssuer(t, "ES256")
	cfg := good.cfg
	cfg.Keys = snapKeys{&keys.Snapshot{Version: "v1"}}
	iss, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Mint panicked without a signing key: %v", r)
		}
	}()
	if tok, err := iss.Mint(context.Background(), Request{Run: benchRun()}); !errors.Is(err, ErrNoSigningKey) || tok.JWT != "" {
		t.Errorf("Mint = %q, %v; want ErrNoSigningKey", tok.JWT, err)
	}
}

// TestMintUnknownSpace: a run whose space the catalog does not know gets no token (never one
// with an empty or made-up sub).
func TestMintUnknownSpace(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	run := benchRun()
	run.Space = "gone"
	if tok, err := iss.Mint(context.Background(), Request{Run: run}); !errors.Is(err, ErrUnknownSpace) || tok.JWT != "" {
		t.Errorf("Mint for an unknown space = %q (sub %q), %v; want ErrUnknownSpace", tok.JWT, tok.Claims.Subject, err)
	}
}

// TestSignerRefusesKeyAndAlgMismatch: an RSA key is only RS256 and an ECDSA key only ES256
// on P-256; any other pairing is refused when the signer is built, not at the first token.
func TestSignerRefusesKeyAndAlgMismatch(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, k := range map[string]keys.Key{
		"RSA key as ES256":   {Meta: keys.Meta{KID: "r", Alg: keys.ES256}, Signer: rk},
		"P-384 key as ES256": {Meta: keys.Meta{KID: "e", Alg: keys.ES256}, Signer: p384},
	} {
		if _, err := newCachedSigner("v", k); err == nil {
			t.Errorf("%s: signer built", name)
		}
	}
}

// TestFixedRSRefusesNonCanonicalDER: fixedRS takes DER only: lengths in their shortest
// form, and nothing in the sequence after the two integers.
func TestFixedRSRefusesNonCanonicalDER(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, _ := ecdsa.SignASN1(rand.Reader, key, []byte("x"))
	body := good[2:] // good is 0x30, a short length, then the two integers
	if good[1] >= 0x80 || int(good[1]) != len(body) {
		t.Fatalf("unexpected DER %x", good)
	}
	longLen := append([]byte{0x30, 0x81, byte(len(body))}, body...)
	longerLen := append([]byte{0x30, 0x82, 0x00, byte(len(body))}, body...)
	extra := append(append([]byte{0x30, byte(len(body) + 3)}, body...), 0x02, 0x01, 0x01)
	if _, err := fixedRS(good, 32); err != nil {
		t.Fatalf("good DER refused: %v", err)
	}
	for name, der := range map[string][]byte{
		"length in long form under 128": longLen,
		"length in two bytes under 256": longerLen,
		"a third integer":               extra,
	} {
		if _, err := fixedRS(der, 32); err == nil {
			t.Errorf("%s: %x accepted", name, der)
		}
	}
}

// TestRSAIsInProcess: an RSA private key signs on this machine's CPU.
func TestRSAIsInProcess(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if !inProcess(rk) {
		t.Error("an RSA private key is not in process")
	}
}

// TestMintWaitsForTheGate: with every slot of the signing gate taken, Mint with an
// in-process key waits, and goes on once a slot frees.
func TestMintWaitsForTheGate(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	iss.gate = newSignGate(1)
	iss.gate.enter()
	done := make(chan error, 1)
	go func() {
		_, err := iss.Mint(context.Background(), Request{Run: benchRun()})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Mint signed while the only slot was taken (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	iss.gate.leave()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Mint still waits after the slot was freed")
	}
}

// TestPublishedDocuments: the discovery document names each algorithm once, however many
// keys of it are published; documents with a max age under a second are served no-cache.
func TestPublishedDocuments(t *testing.T) {
	var published []keys.Key
	for _, kid := range []string{"k1", "k2"} {
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		published = append(published, keys.Key{Meta: keys.Meta{KID: kid, Alg: keys.ES256}, Signer: ec})
	}
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: published[1], Signers: published[1:], Published: published}}
	for _, c := range []struct {
		maxAge time.Duration
		cc     string
	}{{500 * time.Millisecond, "no-cache"}, {90 * time.Second, "public, max-age=90"}} {
		pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: src, MaxAge: c.maxAge})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		pub.Routes()[DiscoveryPath].Serve(rec, httptest.NewRequest("GET", DiscoveryPath, nil))
		if got := rec.Header().Get("Cache-Control"); got != c.cc {
			t.Errorf("max age %v: Cache-Control %q, want %q", c.maxAge, got, c.cc)
		}
		var disc struct {
			Algs []string `json:"id_token_signing_alg_values_supported"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(disc.Algs, []string{"ES256"}) {
			t.Errorf("id_token_signing_alg_values_supported = %v, want [ES256]", disc.Algs)
		}
	}
}
