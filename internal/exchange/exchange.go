package exchange

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
)

// Provider names, as in POST /v1/credentials and the integration's config block (the names of
// package provider's table).
const (
	AWS   = provider.AWS
	GCP   = provider.GCP
	Azure = provider.Azure
	Vault = provider.Vault
)

// Default token audiences of package provider's table; an integration's audience overrides.
const (
	AWSAudience   = provider.AWSAudience
	AzureAudience = provider.AzureAudience
)

// AzureAlgorithm is the only token signing algorithm Entra ID accepts (provider.AzureAlgorithm).
const AzureAlgorithm = provider.AzureAlgorithm

// AlgorithmFor returns the one signing algorithm the relying party of a token for audience
// accepts; empty means any (provider.AlgorithmFor).
func AlgorithmFor(audience string) string { return provider.AlgorithmFor(audience) }

// RequiredAlgorithms returns every algorithm some provider accepts exclusively: broker keeps a
// signing key of each besides the configured one (provider.RequiredAlgorithms).
func RequiredAlgorithms() []string { return provider.RequiredAlgorithms() }

// TokenRequest asks for a broker ID token for the run being exchanged.
type TokenRequest struct {
	Audience string
	// Algorithm is the one signing algorithm the provider accepts; empty means any.
	Algorithm string
	// AWSSessionTags adds AWS's https://aws.amazon.com/tags claim.
	AWSSessionTags bool
}

// TokenSource mints a fresh broker ID token for the run being exchanged, one per upstream call.
type TokenSource interface {
	Token(ctx context.Context, req TokenRequest) (string, error)
}

// Request is one exchange: a run, at its current scope, and the integration chosen for it.
type Request struct {
	Run         runs.Run
	Integration config.Integration
	Tokens      TokenSource
	// Now is when the exchange starts, on the clock the run's times are on; zero means
	// time.Now().
	Now time.Time
}

// Lifetime is how long the credentials of an exchange that asks the upstream for a lifetime
// (AWS STS, Google's generateAccessToken) are asked to last: the integration's duration, or
// fallback (the upstream's own default) when it sets none, but no longer than the run has left
// (in whole seconds rounded up, or floor when that is less: the shortest the upstream grants, or
// one that still leaves MinValidity when they arrive). Credentials outliving their run would
// keep its access, write included, after the run has ended; none outlive the duration.
func Lifetime(req Request, fallback, floor time.Duration) time.Duration {
	want := req.Integration.Duration
	if want <= 0 {
		want = fallback
	}
	if req.Run.ExpiresAt.IsZero() {
		return want
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	left := (req.Run.ExpiresAt.Sub(now) + time.Second - 1).Truncate(time.Second)
	return min(want, max(left, floor))
}

// Credentials are what an exchange yields.
type Credentials struct {
	// ExpiresAt is when the credentials stop working.
	ExpiresAt time.Time
	// Env holds the environment variables of contract section 3 for the provider.
	Env map[string]string
	// Detail is the provider-specific object returned under the provider's name.
	Detail any
}

// Exchanger performs one provider's exchange. Implementations are safe for concurrent use and
// must bound every upstream call by req.Integration.Timeout.
type Exchanger interface {
	Exchange(ctx context.Context, req Request) (Credentials, error)
}

// Timeout returns the per-call timeout of an integration (10s when unset).
func Timeout(in config.Integration) time.Duration {
	if in.Timeout > 0 {
		return in.Timeout
	}
	return config.DefaultIntegrationTimeout
}

// Revoker is an Exchanger whose credentials can be taken back: broker revokes what it obtained
// and then did not hand out. Revoke takes back creds, obtained through the integration in, within
// in's timeout as any other upstream call, whether or not ctx ends first; it logs its failures
// and never a secret.
type Revoker interface {
	Revoke(ctx context.Context, in config.Integration, creds Credentials)
}

// revocations counts the revocations under way (see Revoking).
var revocations atomic.Int64

// Revoking runs revoke on its own, so that a refusal is answered at once; a stopping server
// waits for it (WaitRevocations) before the process exits.
func Revoking(revoke func()) {
	revocations.Add(1)
	go func() {
		defer revocations.Add(-1)
		revoke()
	}()
}

// revocationPoll is how often WaitRevocations looks again.
const revocationPoll = 10 * time.Millisecond

// WaitRevocations waits until no revocation is under way, or ctx ends, and returns how many
// are still under way then: 0 when every one ended.
func WaitRevocations(ctx context.Context) int64 {
	for revocations.Load() > 0 {
		select {
		case <-ctx.Done():
			return revocations.Load()
		case <-time.After(revocationPoll):
		}
	}
	return 0
}

// RevokerOf returns the Revoker x is, or wraps (through Unwrap), if any.
func RevokerOf(x Exchanger) (Revoker, bool) {
	for x != nil {
		if r, ok := x.(Revoker); ok {
			return r, true
		}
		u, ok := x.(interface{ Unwrap() Exchanger })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	return nil, false
}
