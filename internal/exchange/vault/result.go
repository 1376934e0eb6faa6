package vault

import (
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
	// LeaseDuration is the token's TTL in seconds at login; 0 means it does not expire.
	LeaseDuration int `json:"leaseDuration"`
	// Renewable tells whether the token may be renewed.
	Renewable bool `json:"renewable"`
	// Policies are the token's policies, as Vault reports them at login.
	Policies []string `json:"policies"`
	// ExpiresAt is the login time plus LeaseDuration; absent when the token does not expire.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// credentials builds the exchange result from a login answer. start is the moment the login
// was sent, so that ExpiresAt never lies later than Vault's own expiry.
func credentials(vc *config.Vault, secret *vaultapi.Secret, start time.Time) (exchange.Credentials, error) {
	// Vault answered 2xx here, but not with a usable login: pass that on as its answer.
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return exchange.Credentials{}, exchange.Upstream(exchange.Vault,
			exchange.UpstreamAnswer{Status: http.StatusOK, Message: "login answer holds no client token"})
	}
	auth := secret.Auth
	if auth.LeaseDuration < 0 {
		return exchange.Credentials{}, exchange.Upstream(exchange.Vault,
			exchange.UpstreamAnswer{Status: http.StatusOK, Message: "login answer has a negative lease duration"})
	}
	var expires time.Time
	if auth.LeaseDuration > 0 {
		expires = start.Add(time.Duration(auth.LeaseDuration) * time.Second).UTC().Truncate(time.Second)
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
