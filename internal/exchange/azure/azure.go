package azure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// Defaults used when the integration leaves them unset.
const (
	// DefaultAuthorityHost is Entra ID's public-cloud authority.
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// DefaultScope asks for an Azure Resource Manager token.
	DefaultScope = "https://management.azure.com/.default"
)

// Environment variable names of contract section 3 (package provider's table).
const (
	EnvTenantID       = provider.EnvAzureTenantID
	EnvClientID       = provider.EnvAzureClientID
	EnvUseOIDC        = provider.EnvAzureUseOIDC
	EnvOIDCToken      = provider.EnvAzureOIDCToken
	EnvSubscriptionID = provider.EnvAzureSubscriptionID
)

// Options configures an Exchanger.
type Options struct {
	// HTTPClient carries every Entra request (it becomes azcore's Transport); nil means
	// exchange.NewHTTPClient with its defaults.
	HTTPClient *http.Client
	// Logger receives a debug line per exchange, never a secret; nil discards. The Info line
	// of each exchange is exchange.Observe's.
	Logger *slog.Logger
}

// Exchanger performs Azure exchanges. It is safe for concurrent use.
type Exchanger struct {
	client *http.Client
	log    *slog.Logger
}

var _ exchange.Exchanger = (*Exchanger)(nil)

// New returns an Exchanger.
func New(opts Options) *Exchanger {
	if opts.HTTPClient == nil {
		opts.HTTPClient = exchange.NewHTTPClient(exchange.ClientOptions{})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Exchanger{client: opts.HTTPClient, log: opts.Logger}
}

// Detail is the object returned under "azure" in POST /v1/credentials.
type Detail struct {
	AccessToken    string    `json:"accessToken"`
	ExpiresAt      time.Time `json:"expiresAt"`
	TenantID       string    `json:"tenantId"`
	ClientID       string    `json:"clientId"`
	SubscriptionID string    `json:"subscriptionId,omitempty"`
}

// Exchange implements exchange.Exchanger. Entra's refusals come back as
// *exchange.UpstreamError with Code "AADSTS<n>" and Entra's description; an unanswered or
// timed-out call as one with Status 0.
func (x *Exchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	in := req.Integration
	az := in.Azure
	switch {
	case az == nil:
		return exchange.Credentials{}, fmt.Errorf("azure: integration %q has no azure block", in.ID)
	case az.TenantID == "" || az.ClientID == "":
		return exchange.Credentials{}, fmt.Errorf("azure: integration %q needs tenant_id and client_id", in.ID)
	case req.Tokens == nil:
		return exchange.Credentials{}, errors.New("azure: no token source")
	}
	audience := in.TokenAudience()
	scope := az.Scope
	if scope == "" {
		scope = DefaultScope
	}
	authority := az.AuthorityHost
	if authority == "" {
		authority = DefaultAuthorityHost
	}
	timeout := exchange.Timeout(in)

	assertions := &minted{}
	getAssertion := func(ctx context.Context) (string, error) {
		tok, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: audience, Algorithm: provider.AzureAlgorithm})
		assertions.add(tok, err)
		return tok, err
	}
	// A credential per exchange: its in-memory cache dies with it, so no run ever receives
	// an access token obtained with another run's assertion.
	origin, transport, err := splitAuthority(authority, az.TenantID, x.client)
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("azure: integration %q: %w", in.ID, err)
	}
	cred, err := azidentity.NewClientAssertionCredential(az.TenantID, az.ClientID, getAssertion,
		&azidentity.ClientAssertionCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: origin},
				Transport: transport,
				Retry:     policy.RetryOptions{MaxRetries: -1},
				Telemetry: policy.TelemetryOptions{ApplicationID: "broker"},
			},
			// The authority is the one configured; its metadata is answered by the transport.
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("azure: integration %q, authority_host %q: %w", in.ID, authority, err)
	}

	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tk, err := cred.GetToken(callCtx, policy.TokenRequestOptions{Scopes: []string{scope}})
	if err != nil {
		if mintErr := assertions.failure(); mintErr != nil {
			return exchange.Credentials{}, fmt.Errorf("azure: mint assertion for %s: %w", audience, mintErr)
		}
		if ctx.Err() != nil {
			// The caller gave up: that is its own context's error, not Entra's answer.
			return exchange.Credentials{}, fmt.Errorf("azure: %w", ctx.Err())
		}
		uerr := upstreamError(callCtx, err, entraCall{authority: authority, timeout: timeout}, assertions.list())
		x.log.LogAttrs(ctx, slog.LevelDebug, "azure exchange failed", slog.String(exchange.FieldIntegration, in.ID),
			slog.String(exchange.FieldRun, req.Run.ID), slog.Int(exchange.FieldUpstreamStatus, uerr.Status),
			slog.String(exchange.FieldUpstreamCode, uerr.Code), slog.String(exchange.FieldErr, uerr.Detail()),
			slog.String("cause", causeText(err, assertions.list())))
		return exchange.Credentials{}, uerr
	}

	if err := exchange.Usable(exchange.Answer{
		Provider: exchange.Azure, From: "Entra ID at " + authority, ExpiresAt: tk.ExpiresOn, Now: time.Now(), Asked: in.Duration,
		Fields: []exchange.Field{{Name: "access_token", Value: tk.Token}},
	}); err != nil {
		x.log.LogAttrs(ctx, slog.LevelDebug, "azure exchange failed", slog.String(exchange.FieldIntegration, in.ID),
			slog.String(exchange.FieldRun, req.Run.ID), slog.String(exchange.FieldErr, err.Error()))
		return exchange.Credentials{}, err
	}
	oidcToken, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: audience, Algorithm: provider.AzureAlgorithm})
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("azure: mint %s: %w", EnvOIDCToken, err)
	}
	env := map[string]string{
		EnvTenantID:  az.TenantID,
		EnvClientID:  az.ClientID,
		EnvUseOIDC:   "true",
		EnvOIDCToken: oidcToken,
	}
	if az.SubscriptionID != "" {
		env[EnvSubscriptionID] = az.SubscriptionID
	}
	// azurerm, doing the exchange itself, must go to the cloud broker went to.
	if name := provider.AzureEnvironment(authority); name != "" {
		env[provider.EnvAzureEnvironment] = name
	}
	expires := tk.ExpiresOn.UTC()
	// The credentials are only as good as their shorter-lived half.
	if exp, ok := tokenExpiry(oidcToken); ok && exp.Before(expires) {
		expires = exp
	}
	if now := time.Now(); expires.Before(now.Add(exchange.MinValidity)) {
		// ARM_OIDC_TOKEN lives no longer than its run nor tokens.ttl: a run this close to its
		// end gets nothing it could still start a call with.
		err := exchange.Upstream(exchange.Azure, exchange.UpstreamAnswer{Message: EnvOIDCToken + " (which lives no longer than its run nor tokens.ttl) expires at " +
			expires.Format(time.RFC3339) + ", less than " + exchange.MinValidity.String() + " from now"})
		x.log.LogAttrs(ctx, slog.LevelDebug, "azure exchange failed", slog.String(exchange.FieldIntegration, in.ID),
			slog.String(exchange.FieldRun, req.Run.ID), slog.String(exchange.FieldErr, err.Error()))
		return exchange.Credentials{}, err
	}
	x.log.LogAttrs(ctx, slog.LevelDebug, "azure exchange", slog.String(exchange.FieldIntegration, in.ID),
		slog.String(exchange.FieldRun, req.Run.ID), slog.String("tenant", az.TenantID),
		slog.String("client", az.ClientID), slog.Time("expires_at", expires))
	return exchange.Credentials{
		ExpiresAt: expires,
		Env:       env,
		Detail: Detail{
			AccessToken:    tk.Token,
			ExpiresAt:      tk.ExpiresOn.UTC(),
			TenantID:       az.TenantID,
			ClientID:       az.ClientID,
			SubscriptionID: az.SubscriptionID,
		},
	}, nil
}

// minted keeps the assertions minted during one exchange, to scrub them from errors, and the
// token source's failure, if any.
type minted struct {
	mu     sync.Mutex
	tokens []string
	err    error
}

func (m *minted) add(tok string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.err = err
		return
	}
	m.tokens = append(m.tokens, tok)
}

func (m *minted) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.tokens...)
}

func (m *minted) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// tokenExpiry reads a JWT's exp claim without verifying anything (the token is our own).
func tokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(data, &claims) != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	return time.Unix(int64(*claims.Exp), 0).UTC(), true
}
