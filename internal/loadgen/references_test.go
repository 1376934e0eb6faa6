package loadgen

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSigner records the digests it is asked to sign and fails with err when set.
type fakeSigner struct {
	mu      sync.Mutex
	digests [][]byte
	opts    []crypto.SignerOpts
	err     error
}

func (f *fakeSigner) Public() crypto.PublicKey { return nil }

func (f *fakeSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.digests = append(f.digests, append([]byte(nil), digest...))
	f.opts = append(f.opts, opts)
	return []byte("sig"), f.err
}

func TestRawSignerWorkersSignTheSigningInput(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		procs int
		err   error
	}{
		{"one per processor", 3, nil},
		{"a failing key", 2, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeSigner{err: tc.err}
			s := &RawSigner{alg: "RS256", signer: fake, input: signingInput("RS256"), procs: tc.procs}
			ws := s.Workers()
			if len(ws) != tc.procs {
				t.Fatalf("%d workers, want one per processor (%d)", len(ws), tc.procs)
			}
			for _, w := range ws {
				if err := w.Do(context.Background()); !errors.Is(err, tc.err) {
					t.Fatalf("Do = %v, want %v", err, tc.err)
				}
			}
			want := sha256.Sum256(signingInput("RS256"))
			if len(fake.digests) != tc.procs {
				t.Fatalf("%d signatures, want %d", len(fake.digests), tc.procs)
			}
			for i, d := range fake.digests {
				if string(d) != string(want[:]) || fake.opts[i] != crypto.SHA256 {
					t.Fatalf("signature %d: digest %x opts %v, want SHA-256 of the signing input", i, d, fake.opts[i])
				}
			}
		})
	}
}

// TestRawSignerOnSchedule runs the raw signer's workers as an open loop: every scheduled
// signature is made once, and each latency is measured.
func TestRawSignerOnSchedule(t *testing.T) {
	fake := &fakeSigner{}
	s := &RawSigner{alg: "ES256", signer: fake, input: signingInput("ES256"), procs: 2}
	const rate = 400.0
	d := 100 * time.Millisecond
	res := RunOpenLoop(context.Background(), OpenLoopConfig{Rate: rate, Duration: d, Workers: s.Workers()})
	want := ScheduleLen(rate, d)
	if res.Errors != 0 || res.Count != want || int64(len(res.Latencies)) != want || int64(len(fake.digests)) != want {
		t.Fatalf("count %d, errors %d, latencies %d, signatures %d; want %d of each and no error",
			res.Count, res.Errors, len(res.Latencies), len(fake.digests), want)
	}
}

// procsSigner records GOMAXPROCS at each signature.
type procsSigner struct {
	fakeSigner
	procs []int
}

func (p *procsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	p.mu.Lock()
	p.procs = append(p.procs, runtime.GOMAXPROCS(0))
	p.mu.Unlock()
	return p.fakeSigner.Sign(r, digest, opts)
}

// TestSigningOnSchedule runs the open loop's reference: the schedule has a processor beside
// the signing workers while it runs, GOMAXPROCS is restored after, and a failing key or an
// algorithm without a raw signer is an error rather than a figure.
func TestSigningOnSchedule(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	ok := &procsSigner{}
	failing := &procsSigner{fakeSigner: fakeSigner{err: errors.New("boom")}}
	s := &suite{cfg: Config{Duration: 60 * time.Millisecond}, signers: map[string]*RawSigner{
		"RS256": {alg: "RS256", signer: ok, input: signingInput("RS256"), procs: 2},
		"ES256": {alg: "ES256", signer: failing, input: signingInput("ES256"), procs: 2},
	}}
	desc, err := s.signingOnSchedule(context.Background(), "RS256", 500)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc, "raw RS256 signing alone on the same schedule (2 at once") || !strings.Contains(desc, " p99 ") {
		t.Fatalf("description %q", desc)
	}
	if len(ok.procs) != 30 {
		t.Fatalf("%d signatures, want the schedule's 30", len(ok.procs))
	}
	for _, p := range ok.procs {
		if p != 3 {
			t.Fatalf("GOMAXPROCS %d while signing, want the 2 workers' plus one for the schedule", p)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Fatalf("GOMAXPROCS %d after, want %d restored", got, before)
	}
	if _, err := s.signingOnSchedule(context.Background(), "ES256", 500); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing key: err = %v, want its error", err)
	}
	if _, err := s.signingOnSchedule(context.Background(), "EdDSA", 500); err == nil {
		t.Fatal("no raw signer for the algorithm: want an error")
	}
}
