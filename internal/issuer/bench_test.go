package issuer

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// The benchmarks below compare what Mint costs with what the bare signature costs on the same
// key, on every core (RunParallel). The ratio Mint/RawSign is the issuer's own overhead; see
// docs/performance.md for the method and the results.

// benchConfig is a small configuration: a three-level space tree, so `sub` renders a real path.
const benchConfig = `
issuer: https://broker.example.com
keys:
  backend: memory
  algorithm: ALG
tokens:
  ttl: 1h
  default_audience: sts.amazonaws.com
spaces:
  - id: root
  - id: prod
    parent: root
    inherit: true
  - id: team-a
    parent: prod
    inherit: true
stacks:
  - {id: app-a, space: team-a}
`

// benchRun is the run every benchmark token is minted for.
func benchRun() runs.Run {
	now := time.Now().UTC()
	return runs.Run{
		ID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Space: "team-a", Stack: "app-a",
		RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write,
		CreatedAt: now, ExpiresAt: now.Add(3 * time.Hour),
	}
}

// newBenchIssuer returns an Issuer over a fresh in-memory key set of algorithm alg, and that
// key set's signing key. Tests use it too.
func newBenchIssuer(b testing.TB, alg string) (*Issuer, keys.Key) {
	b.Helper()
	cfg, err := config.Parse("bench.yaml", []byte(strings.Replace(benchConfig, "ALG", alg, 1)))
	if err != nil {
		b.Fatalf("config: %v", err)
	}
	mgr, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Policy: keys.Policy{
		Period: cfg.Keys.Rotation.Period, Prepublish: cfg.Keys.Rotation.Prepublish,
		Retain: cfg.Keys.Rotation.Retain, Alg: cfg.Keys.Algorithm,
	}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatalf("key manager: %v", err)
	}
	if _, err := mgr.Refresh(context.Background()); err != nil {
		b.Fatalf("refresh keys: %v", err)
	}
	snap := mgr.Snapshot()
	if snap == nil || snap.Signing.Signer == nil || snap.Signing.Alg != alg {
		b.Fatalf("no %s signing key after Refresh: %+v", alg, snap)
	}
	spaces, err := claims.NewSpaces(cfg)
	if err != nil {
		b.Fatalf("spaces: %v", err)
	}
	iss, err := New(Config{
		Issuer: cfg.Issuer, Keys: mgr, TTL: cfg.Tokens.TTL,
		DefaultAudience: cfg.Tokens.DefaultAudience, Spaces: spaces,
	})
	if err != nil {
		b.Fatalf("issuer: %v", err)
	}
	return iss, snap.Signing
}

// benchPayload is the claims JSON of a token minted by iss for benchRun: the payload the raw
// signature benchmarks sign, so that both sides sign the same bytes.
func benchPayload(b *testing.B, iss *Issuer) []byte {
	b.Helper()
	tok, err := iss.Mint(context.Background(), Request{Run: benchRun()})
	if err != nil {
		b.Fatalf("mint: %v", err)
	}
	payload, err := json.Marshal(tok.Claims)
	if err != nil {
		b.Fatalf("encode claims: %v", err)
	}
	if n := len(payload); n < 350 || n > 600 {
		b.Fatalf("claims payload is %d bytes, want a realistic ~450", n)
	}
	return payload
}

// processCPU is the CPU time (user and system) the process has used so far. On a shared machine
// the wall time of a benchmark swings with the neighbours' load; its CPU time per operation
// swings much less, so the benchmarks report both.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runParallelCPU runs body with b.RunParallel and reports the process CPU time per operation.
func runParallelCPU(b *testing.B, body func(*testing.PB)) {
	b.Helper()
	b.ReportAllocs()
	start := processCPU(b)
	b.ResetTimer()
	b.RunParallel(body)
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// benchRawSign signs the SHA-256 of the claims payload with the key's crypto.Signer alone:
// PKCS #1 v1.5 for RSA, ECDSA for P-256. It is the floor Mint cannot go below.
func benchRawSign(b *testing.B, alg string) {
	iss, key := newBenchIssuer(b, alg)
	payload := benchPayload(b, iss)
	runParallelCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			digest := sha256.Sum256(payload)
			sig, err := key.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				b.Fatalf("sign: %v", err)
			}
			if len(sig) == 0 {
				b.Fatal("empty signature")
			}
		}
	})
}

// benchMint mints complete tokens (claims, JSON, JWS, compact serialization).
func benchMint(b *testing.B, alg string) {
	iss, _ := newBenchIssuer(b, alg)
	run := benchRun()
	runParallelCPU(b, func(pb *testing.PB) {
		for pb.Next() {
			tok, err := iss.Mint(context.Background(), Request{Run: run})
			if err != nil {
				b.Fatalf("mint: %v", err)
			}
			if tok.JWT == "" {
				b.Fatal("empty token")
			}
		}
	})
}

func BenchmarkRawSignRS256(b *testing.B) { benchRawSign(b, keys.RS256) }
func BenchmarkRawSignES256(b *testing.B) { benchRawSign(b, keys.ES256) }
func BenchmarkMintRS256(b *testing.B)    { benchMint(b, keys.RS256) }
func BenchmarkMintES256(b *testing.B)    { benchMint(b, keys.ES256) }
