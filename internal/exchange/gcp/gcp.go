package gcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google/externalaccount"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// Production endpoints and defaults (contract section 6).
const (
	DefaultSTSEndpoint            = "https://sts.googleapis.com"
	DefaultIAMCredentialsEndpoint = "https://iamcredentials.googleapis.com"
	DefaultScope                  = "https://www.googleapis.com/auth/cloud-platform"
	// EnvAccessToken is the environment variable handed to the run (contract section 3).
	EnvAccessToken = provider.EnvGCPAccessToken

	subjectTokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"
)

// Options configures an Exchanger.
type Options struct {
	// HTTPClient makes the upstream calls; nil means exchange.NewHTTPClient with its defaults
	// (retries on 429 and 5xx only). Only its Transport is used: bounds come from the integration.
	HTTPClient *http.Client
	// Logger receives a debug line per exchange, never a token; nil discards. The Info line of
	// each exchange is exchange.Observe's.
	Logger *slog.Logger
}

// Exchanger performs GCP workload identity federation exchanges. It is safe for concurrent use.
type Exchanger struct {
	base http.RoundTripper
	log  *slog.Logger
}

var _ exchange.Exchanger = (*Exchanger)(nil)

// New returns an Exchanger.
func New(opts Options) *Exchanger {
	client := opts.HTTPClient
	if client == nil {
		client = exchange.NewHTTPClient(exchange.ClientOptions{})
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exchanger{base: base, log: log}
}

// Detail is returned under "gcp" in POST /v1/credentials.
type Detail struct {
	AccessToken    string    `json:"accessToken"`
	ExpiresAt      time.Time `json:"expiresAt"`
	ServiceAccount string    `json:"serviceAccount"`
	TokenType      string    `json:"tokenType"`
}

// ProviderAudience returns the full resource name of a workload identity provider,
// "//iam.googleapis.com/projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<id>",
// from its resource name with or without that prefix. It is the STS audience and the default
// token audience.
func ProviderAudience(workloadIdentityProvider string) string {
	return provider.GCPAudience(workloadIdentityProvider)
}

// Exchange mints a broker token, exchanges it at STS and impersonates the integration's
// service account. Upstream refusals are *exchange.UpstreamError carrying Google's code and
// message; no error holds a token.
func (x *Exchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	in := req.Integration
	g := in.GCP
	switch {
	case g == nil:
		return exchange.Credentials{}, fmt.Errorf("gcp: integration %q has no gcp configuration", in.ID)
	case g.WorkloadIdentityProvider == "":
		return exchange.Credentials{}, fmt.Errorf("gcp: integration %q has no workload_identity_provider", in.ID)
	case g.ServiceAccount == "":
		return exchange.Credentials{}, fmt.Errorf("gcp: integration %q has no service_account", in.ID)
	case req.Tokens == nil:
		return exchange.Credentials{}, errors.New("gcp: no token source")
	}
	stsAudience := ProviderAudience(g.WorkloadIdentityProvider)
	tokenAudience := in.TokenAudience()
	scopes := g.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	stsURL := endpoint(g.STSEndpoint, DefaultSTSEndpoint) + "/v1/token"
	iamURL := endpoint(g.IAMCredentialsEndpoint, DefaultIAMCredentialsEndpoint) +
		"/v1/projects/-/serviceAccounts/" + url.PathEscape(g.ServiceAccount) + ":generateAccessToken"
	timeout := exchange.Timeout(in)

	rec := &recorder{serviceAccount: g.ServiceAccount}
	client := &http.Client{Transport: &boundTransport{base: x.base, timeout: timeout, rec: rec}}
	tctx, cancel := context.WithTimeout(ctx, 2*timeout)
	defer cancel()
	tctx = context.WithValue(tctx, oauth2.HTTPClient, client)

	cfg := externalaccount.Config{
		Audience:                       stsAudience,
		SubjectTokenType:               subjectTokenTypeJWT,
		TokenURL:                       stsURL,
		ServiceAccountImpersonationURL: iamURL,
		Scopes:                         scopes,
		SubjectTokenSupplier:           &supplier{tokens: req.Tokens, audience: tokenAudience, rec: rec},
	}
	lifetime := exchange.Lifetime(req, provider.GCPDefaultLifetime, provider.MinLifetime)
	cfg.ServiceAccountImpersonationLifetimeSeconds = int(math.Ceil(lifetime.Seconds()))
	started := time.Now()
	attrs := []slog.Attr{
		slog.String(exchange.FieldIntegration, in.ID), slog.String(exchange.FieldRun, req.Run.ID),
		slog.String("service_account", g.ServiceAccount), slog.String("audience", tokenAudience),
	}
	ts, err := externalaccount.NewTokenSource(tctx, cfg)
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("gcp: integration %q: %w", in.ID, err)
	}
	tok, err := ts.Token()
	attrs = append(attrs, slog.Duration(exchange.FieldDuration, time.Since(started)))
	if err != nil {
		err = rec.explain(ctx, err)
		x.log.LogAttrs(ctx, slog.LevelDebug, "gcp exchange failed", append(attrs, slog.String(exchange.FieldErr, err.Error()))...)
		return exchange.Credentials{}, err
	}
	if err := exchange.Usable(exchange.Answer{
		Provider: exchange.GCP, From: "IAM Credentials generateAccessToken", ExpiresAt: tok.Expiry, Now: time.Now(), Asked: lifetime,
		Fields: []exchange.Field{{Name: "accessToken", Value: tok.AccessToken}},
	}); err != nil {
		x.log.LogAttrs(ctx, slog.LevelDebug, "gcp exchange failed", append(attrs, slog.String(exchange.FieldErr, err.Error()))...)
		return exchange.Credentials{}, err
	}
	x.log.LogAttrs(ctx, slog.LevelDebug, "gcp exchange", append(attrs, slog.Time("expires_at", tok.Expiry))...)
	return exchange.Credentials{
		ExpiresAt: tok.Expiry,
		Env:       map[string]string{EnvAccessToken: tok.AccessToken},
		Detail: Detail{
			AccessToken: tok.AccessToken, ExpiresAt: tok.Expiry,
			ServiceAccount: g.ServiceAccount, TokenType: "Bearer",
		},
	}, nil
}

// endpoint returns the configured base URL, or def, without a trailing slash.
func endpoint(configured, def string) string {
	if configured == "" {
		configured = def
	}
	return strings.TrimRight(configured, "/")
}

// supplier mints a fresh broker token for each STS call; it implements
// externalaccount.SubjectTokenSupplier.
type supplier struct {
	tokens   exchange.TokenSource
	audience string
	rec      *recorder
}

func (s *supplier) SubjectToken(ctx context.Context, _ externalaccount.SupplierOptions) (string, error) {
	tok, err := s.tokens.Token(ctx, exchange.TokenRequest{Audience: s.audience})
	if err != nil {
		s.rec.supplierFailed(err)
		return "", err
	}
	s.rec.addSecret(tok)
	return tok, nil
}
