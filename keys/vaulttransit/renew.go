package vaulttransit

import (
	"context"
	"encoding/json"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Bounds of the renewal schedule.
const (
	// minRenewWait is the shortest wait between two renewals or attempts.
	minRenewWait = time.Second
	// maxRetryWait is the longest wait after a failed renewal.
	maxRetryWait = 30 * time.Second
)

// token is what lookup-self tells of the Vault token.
type token struct {
	renewable bool
	ttl       time.Duration
	// creationTTL is the TTL the token was created with, asked for at each renewal.
	creationTTL time.Duration
}

// lookupSelf reads the token's properties.
func (b *Backend) lookupSelf(ctx context.Context) (token, error) {
	var sec *vaultapi.Secret
	err := b.call(ctx, "look up the Vault token", func(ctx context.Context) (err error) {
		sec, err = b.vc.Auth().Token().LookupSelfWithContext(ctx)
		return err
	})
	if err != nil {
		return token{}, err
	}
	var t token
	if sec != nil && sec.Data != nil {
		t.renewable, _ = sec.Data["renewable"].(bool)
		t.ttl = seconds(sec.Data["ttl"])
		t.creationTTL = seconds(sec.Data["creation_ttl"])
	}
	return t, nil
}

func seconds(v any) time.Duration {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		return 0
	}
	return time.Duration(i) * time.Second
}

// renew renews a renewable token with a TTL at half its TTL until ctx ends, retrying failures
// sooner; then it closes b.done.
func (b *Backend) renew(ctx context.Context, t token) {
	defer close(b.done)
	if !t.renewable || t.ttl <= 0 {
		return
	}
	wait := max(t.ttl/2, minRenewWait)
	for {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		var sec *vaultapi.Secret
		err := b.call(ctx, "renew the Vault token", func(ctx context.Context) (err error) {
			sec, err = b.vc.Auth().Token().RenewSelfWithContext(ctx, int(t.creationTTL/time.Second))
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = max(min(t.ttl/10, maxRetryWait), minRenewWait)
			b.log.Warn("vault-transit: token renewal failed; retrying", "err", err, "retry_in", wait.String())
		case sec == nil || sec.Auth == nil:
			wait = max(min(t.ttl/10, maxRetryWait), minRenewWait)
			b.log.Warn("vault-transit: token renewal answered no lease; retrying", "retry_in", wait.String())
		default:
			ttl := time.Duration(sec.Auth.LeaseDuration) * time.Second
			wait = max(ttl/2, minRenewWait)
			b.log.Debug("vault-transit: token renewed", "ttl", ttl.String())
		}
	}
}
