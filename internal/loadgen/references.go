package loadgen

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/brokerhq/broker/keys"
)

// tokenClaims is a claims payload of the size broker's tokens have (about 450 bytes).
const tokenClaims = `{"iss":"http://127.0.0.1:41234","sub":"space:team-a:stack:app-a:run_type:TRACKED:scope:write",` +
	`"aud":"sts.amazonaws.com","exp":1795000000,"iat":1794996400,"nbf":1794996370,"jti":"q2Qd6c1c9m0W0bM3pY5lVg",` +
	`"spaceId":"team-a","callerType":"stack","callerId":"app-a","runType":"TRACKED","runId":"01JD8ZQ6Y3K9V2W4X5T7R8P0MN",` +
	`"runPhase":"APPLYING","scope":"write","https://example.com/padding":"to reach a realistic size of a token payload"}`

// signingInput is the JWS signing input of a token of alg: the encoded header, a dot and the
// encoded claims, as the server signs it.
func signingInput(alg string) []byte {
	header := `{"alg":"` + alg + `","kid":"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG","typ":"JWT"}`
	enc := base64.RawURLEncoding
	return []byte(enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(tokenClaims)))
}

// RawSigner measures the machine's raw signing rate for one algorithm: SHA-256 of a token's
// signing input plus one crypto.Signer.Sign call, on every core, in this process. It is the
// floor the token endpoint cannot go below.
type RawSigner struct {
	alg    string
	signer crypto.Signer
	input  []byte
	procs  int
}

// NewRawSigner generates a key of alg (RS256: RSA 2048, ES256: P-256) the way the server does,
// through a key backend.
func NewRawSigner(ctx context.Context, alg string) (*RawSigner, error) {
	key, err := keys.NewMemory().Generate(ctx, alg, time.Now())
	if err != nil {
		return nil, fmt.Errorf("raw signing reference: %w", err)
	}
	return &RawSigner{alg: alg, signer: key.Signer, input: signingInput(alg), procs: runtime.GOMAXPROCS(0)}, nil
}

// Run signs on GOMAXPROCS goroutines for d and returns the signatures made.
func (s *RawSigner) Run(ctx context.Context, d time.Duration) Result {
	start := time.Now()
	deadline := start.Add(d)
	counts := make([]Result, s.procs)
	var wg sync.WaitGroup
	for i := range s.procs {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err := s.Sign(); err != nil {
					counts[i].Errors++
					counts[i].FirstErr = err
					return
				}
				counts[i].Count++
			}
		})
	}
	wg.Wait()
	total := Result{}
	for _, c := range counts {
		total.Add(c)
	}
	total.Elapsed = time.Since(start)
	return total
}

// Sign makes one raw signature: SHA-256 of the signing input and one crypto.Signer.Sign call.
func (s *RawSigner) Sign() error {
	digest := sha256.Sum256(s.input)
	_, err := s.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	return err
}

// Workers returns GOMAXPROCS open-loop workers that each make one raw signature per request:
// on an open loop's schedule they are the machine signing alone, as many signatures at once as
// the server's signing gate admits by default, with no network, HTTP or store in the way.
func (s *RawSigner) Workers() []Worker {
	ws := make([]Worker, s.procs)
	for i := range ws {
		ws[i] = WorkerFunc(func(context.Context) error { return s.Sign() })
	}
	return ws
}
