package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/runs"
)

// Guard slows down failed authentications (bad run tokens or API keys). Handlers authenticate
// first and call Failed only for a credential that failed: a valid credential always proceeds,
// whatever others presented from the same address. Each failure counts against the client
// address (see clientAddr and sourceKey) and the presented credential's prefix (see
// credentialKey); once either is blocked (the limits.auth_failures-th failure blocks it),
// further failures get 429 with Retry-After instead of 401. The counts live in the Limiter,
// which replicas share through Redis.
type Guard struct {
	Limiter ratelimit.Limiter
	Logger  *slog.Logger
	// TrustedProxies are the peers whose X-Forwarded-For names the client (see clientAddr).
	TrustedProxies []netip.Prefix
	// StoreTimeout bounds the limiter calls of one failure (limits.store_timeout); zero means
	// config.DefaultStoreTimeout.
	StoreTimeout time.Duration
}

// Failed counts the failed authentication of r, whose cause is the error the caller would
// answer with, and returns cause, or a 429 error when r's client address or its credential's
// prefix was already blocked. The prefix is not counted while the address is blocked, so one
// client cannot fill the limiter with prefixes. A limiter that cannot count is logged, not
// fatal: the request is refused either way.
func (g *Guard) Failed(r *http.Request, cause error) error {
	if g == nil || g.Limiter == nil {
		return cause
	}
	timeout := g.StoreTimeout
	if timeout <= 0 {
		timeout = config.DefaultStoreTimeout
	}
	// Count even if the client went away mid-request.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
	defer cancel()
	source := sourceKey(r, g.TrustedProxies)
	var wait time.Duration
	if secret, err := access.BearerToken(r.Header); err == nil {
		wait = g.countPair(ctx, source, credentialKey(secret))
	} else {
		wait = g.count(ctx, source)
	}
	if wait <= 0 {
		return cause
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &apierror.Error{
		Code:       apierror.CodeRateLimited,
		Message:    "Too many failed authentication attempts from this address or with this credential; retry after " + (time.Duration(secs) * time.Second).String() + ".",
		RetryAfter: secs,
	}
}

// count records one failure of key and returns its wait, zero when the limiter failed.
func (g *Guard) count(ctx context.Context, key string) time.Duration {
	wait, err := g.Limiter.Failed(ctx, key)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			g.Logger.WarnContext(ctx, "could not count a failed authentication", "key", key, "err", err)
		}
		return 0
	}
	return wait
}

// countPair records one failure of source and, unless source was blocked, of credential (in
// one round trip when the limiter allows it: ratelimit.FailedPair), and returns the wait; a key
// the limiter could not count waits zero.
func (g *Guard) countPair(ctx context.Context, source, credential string) time.Duration {
	wait, err := ratelimit.FailedPair(ctx, g.Limiter, source, credential)
	if err != nil && !errors.Is(err, context.Canceled) {
		g.Logger.WarnContext(ctx, "could not count a failed authentication", "key", source+" "+credential, "err", err)
	}
	return wait
}

// secretPrefix returns the well-known prefix s starts with, a run token's or a generated API
// key's (the longer first), or "" when it starts with neither.
func secretPrefix(s string) string {
	for _, p := range []string{runs.TokenPrefix, config.APIKeySecretPrefix} {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// credentialPrefixLen is how many characters of a credential, past its well-known prefix,
// name its count.
const credentialPrefixLen = 8

// credentialKey names the limiter's count for a presented credential: a hash of its well-known
// prefix (a run token's or a generated API key's) and the next credentialPrefixLen characters,
// never more than a quarter of the rest. So failures that share a credential's start count
// together from any address, and the count holds too little of any secret to help guess it.
func credentialKey(secret string) string {
	known := secretPrefix(secret)
	n := len(known) + min(credentialPrefixLen, (len(secret)-len(known))/4)
	sum := sha256.Sum256([]byte(secret[:n]))
	return "cred:" + hex.EncodeToString(sum[:8])
}

// Client names r's client as failures are counted against it (its address, or its IPv6 /64),
// for logs and audit details.
func (g *Guard) Client(r *http.Request) string {
	if g == nil {
		return sourceKey(r, nil)
	}
	return sourceKey(r, g.TrustedProxies)
}
