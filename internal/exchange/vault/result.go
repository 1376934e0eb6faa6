package vault

import (
	"math"
	"net/http"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// Detail is the provider-specific object returned under "vault" in POST /v1/credentials.
type Detail struct {
	// ClientToken is the Vault token (also VAULT_TOKEN).
	ClientToken string `json:"clientToken"`
	// Accessor names the token without granting its use (for revocation and lookups).
	Accessor string `json:"accessor"`
	// LeaseDuration is the token's TTL in seconds at login, never 0: a token that does not
	// expire is refused.
	LeaseDuration int `json:"leaseDuration"`
	// Renewable tells whether the token may be renewed.
	Renewable bool `json:"renewable"`
	// Policies are the token's policies, as Vault reports them at login.
	Policies []string `json:"policies"`
	// ExpiresAt is the login time plus LeaseDuration.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// maxLeaseSeconds is the longest lease a time.Duration holds: a longer one is no expiry broker
// can state.
const maxLeaseSeconds = math.MaxInt64 / int64(time.Second)

// credentials builds the exchange result from a login answer. start is the moment the login
// was sent, so that ExpiresAt never lies later than Vault's own expiry. asked is the
// integration's duration: when set, a token living longer (the role's token_ttl decides, and
// `broker trust vault` prints it from duration) is refused. A token that does not expire is
// refused always.
func credentials(vc *config.Vault, asked time.Duration, secret *vaultapi.Secret, start time.Time) (exchange.Credentials, error) {
	// Vault answered 2xx here, but not with a usable login: pass that on as its answer.
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return exchange.Credentials{}, exchange.Upstream(exchange.Vault,
			exchange.UpstreamAnswer{Status: http.StatusOK, Message: "login answer holds no client token"})
	}
	auth := secret.Auth
	switch {
	case auth.LeaseDuration < 0:
		return exchange.Credentials{}, exchange.Upstream(exchange.Vault,
			exchange.UpstreamAnswer{Status: http.StatusOK, Message: "login answer has a negative lease duration"})
	case int64(auth.LeaseDuration) > maxLeaseSeconds:
		return exchange.Credentials{}, exchange.Upstream(exchange.Vault,
			exchange.UpstreamAnswer{Status: http.StatusOK, Message: "login answer has a lease duration beyond any date"})
	}
	var expires time.Time // zero: the token does not expire
	if auth.LeaseDuration > 0 {
		expires = start.Add(time.Duration(auth.LeaseDuration) * time.Second).UTC().Truncate(time.Second)
	}
	// A token that does not expire (lease 0, as a root token's) is never a run's, whatever the
	// integration's duration; one that expires within exchange.MinValidity is of no use to the
	// run; one that outlives the duration asked for is not handed on.
	if err := exchange.Usable(exchange.Answer{
		Provider: exchange.Vault, From: "Vault at " + vc.Address, ExpiresAt: expires, Now: time.Now(), Asked: asked,
		Fields: []exchange.Field{{Name: "client_token", Value: auth.ClientToken}},
	}); err != nil {
		return exchange.Credentials{}, err
	}
	policies := auth.Policies
	if policies == nil {
		policies = []string{}
	}
	env := map[string]string{
		EnvAddr:  vc.Address,
		EnvToken: auth.ClientToken,
	}
	if vc.Namespace != "" {
		env[EnvNamespace] = vc.Namespace
	}
	return exchange.Credentials{
		ExpiresAt: expires,
		Env:       env,
		Detail: Detail{
			ClientToken:   auth.ClientToken,
			Accessor:      auth.Accessor,
			LeaseDuration: auth.LeaseDuration,
			Renewable:     auth.Renewable,
			Policies:      policies,
			ExpiresAt:     expires,
		},
	}, nil
}
