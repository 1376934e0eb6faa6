package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// DefaultAudience is the token audience when the integration sets none (package provider's).
const DefaultAudience = provider.VaultAudience

// Environment variables handed to the run (contract section 3, package provider's table).
const (
	EnvAddr      = provider.EnvVaultAddr
	EnvToken     = provider.EnvVaultToken
	EnvNamespace = provider.EnvVaultNamespace
)

// Options configures an Exchanger.
type Options struct {
	// HTTPClient carries the login call; nil means exchange.NewHTTPClient with its defaults,
	// which retries throttling and 5xx answers. The Vault client's own retries are off.
	HTTPClient *http.Client
	// Logger receives a debug line per login; nil discards. It never receives a token. The
	// Info line of each exchange is exchange.Observe's.
	Logger *slog.Logger
}

// Exchanger logs in to Vault's JWT auth method with a fresh broker ID token. It is safe for
// concurrent use.
type Exchanger struct {
	http *http.Client
	log  *slog.Logger
}

var _ exchange.Exchanger = (*Exchanger)(nil)

// New returns an Exchanger.
func New(opts Options) *Exchanger {
	hc := opts.HTTPClient
	if hc == nil {
		hc = exchange.NewHTTPClient(exchange.ClientOptions{})
	}
	// Work on a copy: vaultapi.NewClient fills in a nil Transport in place. No redirect is
	// followed, by net/http here or by the Vault client (DisableRedirects below): a login goes
	// to the configured address only, never re-sent elsewhere with its broker token.
	own := *hc
	if own.Transport == nil {
		own.Transport = http.DefaultTransport
	}
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Exchanger{http: &own, log: logger}
}

// Exchange mints a broker ID token for the integration's audience and logs in with it to the
// integration's Vault role. A refusal by Vault is an *exchange.UpstreamError carrying Vault's
// message; a Vault that cannot be reached is an *exchange.UpstreamError with Status 0.
func (e *Exchanger) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	in := req.Integration
	vc := in.Vault
	if vc == nil {
		return exchange.Credentials{}, fmt.Errorf("vault: integration %q has no vault block", in.ID)
	}
	if req.Tokens == nil {
		return exchange.Credentials{}, errors.New("vault: exchange request has no token source")
	}
	mount := strings.Trim(vc.Mount, "/")
	if mount == "" {
		mount = config.DefaultVaultMount
	}
	audience := in.TokenAudience()
	timeout := exchange.Timeout(in)

	client, err := e.client(vc, timeout)
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("vault: integration %q: %w", in.ID, err)
	}
	jwt, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: audience})
	if err != nil {
		return exchange.Credentials{}, fmt.Errorf("vault: mint token for audience %q: %w", audience, err)
	}

	body := map[string]any{"jwt": jwt}
	if vc.Role != "" {
		body["role"] = vc.Role
	}
	status := 0 // the HTTP status of Vault's final answer, 0 when none came
	client = client.WithResponseCallbacks(func(r *vaultapi.Response) { status = r.StatusCode })
	start := time.Now()
	secret, err := client.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", body)
	if err != nil && ctx.Err() != nil {
		// The caller gave up: that is its own context's error, not Vault's answer.
		return exchange.Credentials{}, fmt.Errorf("vault: login: %w", ctx.Err())
	}
	if up := foreignAnswer(vc.Address, loginOutcome{status: status, err: err}, jwt); up != nil {
		e.log.LogAttrs(ctx, slog.LevelDebug, "vault login answered by something else than Vault",
			slog.String(exchange.FieldIntegration, in.ID), slog.String("mount", mount), slog.String("role", vc.Role),
			slog.Int(exchange.FieldUpstreamStatus, up.Status), slog.String(exchange.FieldErr, up.Message), slog.Duration(exchange.FieldDuration, time.Since(start)))
		return exchange.Credentials{}, up
	}
	if err != nil {
		up := e.upstream(err, jwt, timeout)
		e.log.LogAttrs(ctx, slog.LevelDebug, "vault login refused",
			slog.String(exchange.FieldIntegration, in.ID), slog.String("mount", mount), slog.String("role", vc.Role),
			slog.Int(exchange.FieldUpstreamStatus, up.Status), slog.String(exchange.FieldErr, exchange.Scrub(err.Error(), jwt)),
			slog.Duration(exchange.FieldDuration, time.Since(start)))
		return exchange.Credentials{}, up
	}
	creds, err := credentials(vc, in.Duration, secret, start)
	if err != nil && secret != nil && secret.Auth != nil && secret.Auth.ClientToken != "" {
		// Vault made a token broker will not hand on: it must not outlive this refusal, which
		// is answered meanwhile, whatever the revocation costs.
		token := secret.Auth.ClientToken
		exchange.Revoking(func() { e.revoke(ctx, vc, token, timeout) })
	}
	if err != nil {
		e.log.LogAttrs(ctx, slog.LevelDebug, "vault login answer unusable",
			slog.String(exchange.FieldIntegration, in.ID), slog.String("mount", mount), slog.String("role", vc.Role),
			slog.String(exchange.FieldErr, err.Error()))
		return exchange.Credentials{}, err
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "vault login",
		slog.String(exchange.FieldIntegration, in.ID), slog.String("mount", mount), slog.String("role", vc.Role),
		slog.Int("lease_seconds", secret.Auth.LeaseDuration), slog.Duration(exchange.FieldDuration, time.Since(start)))
	return creds, nil
}

// client builds a Vault API client for one login. It carries no token, no headers and no
// response wrapping from broker's own environment: vaultapi.NewClient reads VAULT_TOKEN,
// VAULT_NAMESPACE and VAULT_HEADERS, and its requests follow VAULT_WRAP_TTL; all four are
// cleared here (a wrapped login answer holds no token).
func (e *Exchanger) client(vc *config.Vault, timeout time.Duration) (*vaultapi.Client, error) {
	hc := *e.http // NewClient keeps the pointer; a copy per login keeps logins independent
	client, err := vaultapi.NewClient(&vaultapi.Config{
		Address:          vc.Address,
		HttpClient:       &hc,
		MaxRetries:       0, // the shared transport retries
		Timeout:          timeout,
		DisableRedirects: true,
	})
	if err != nil {
		return nil, fmt.Errorf("vault client for %s (VAULT_* variables of the environment count too): %w", vc.Address, config.WithoutURL(err))
	}
	client.ClearToken()
	client.SetWrappingLookupFunc(noWrapping)
	// Start from no headers but the one Vault requires of API clients (its SSRF guard).
	client.SetHeaders(http.Header{vaultapi.RequestHeaderName: []string{"true"}})
	if vc.Namespace != "" {
		client.SetNamespace(vc.Namespace)
	}
	// Vault treats PUT and POST alike; the contract and Vault's login docs name POST.
	return client.WithRequestCallbacks(func(r *vaultapi.Request) { r.Method = http.MethodPost }), nil
}

// noWrapping is a wrapping lookup function that never asks Vault to wrap an answer.
func noWrapping(operation, path string) string { return "" }

// loginOutcome is how a login to Vault ended, as foreignAnswer reads it.
type loginOutcome struct {
	// status is the HTTP status of the final answer to the login, 0 when none came.
	status int
	// err is the Vault client's error for the login, nil when it reported none.
	err error
}

// foreignAnswer names an answer from the Vault at address that is not Vault's, so the error
// says who answered what rather than how its body failed to decode: a status outside 2xx
// without Vault's {"errors":[...]} document (a 404 page of a proxy, a JSON number, an empty
// body, which the Vault client otherwise reports as a decode error or as no error at all), or a
// 2xx whose body is not Vault's JSON. It returns nil for Vault's own answers and for answers
// that never came. jwt is scrubbed from the message.
func foreignAnswer(address string, login loginOutcome, jwt string) *exchange.UpstreamError {
	status, err := login.status, login.err
	if status == 0 {
		return nil
	}
	success := status >= 200 && status < 300
	var (
		re      *vaultapi.ResponseError
		syntax  *json.SyntaxError
		mistype *json.UnmarshalTypeError
		msg     string
	)
	switch {
	case errors.As(err, &re) && !re.RawError:
		return nil // Vault's own refusal
	case re != nil:
		msg = fmt.Sprintf("Vault at %s answered %d, not with Vault's JSON: %s", address, status, strings.Join(re.Errors, "; "))
	case !success:
		msg = fmt.Sprintf("Vault at %s answered %d, not with Vault's JSON", address, status)
	case errors.As(err, &syntax) || errors.As(err, &mistype) || errors.Is(err, io.ErrUnexpectedEOF):
		msg = fmt.Sprintf("Vault at %s answered %d with a body that is not Vault's JSON", address, status)
	default:
		return nil
	}
	return exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{Status: status, Message: msg}, jwt)
}

// upstream turns a failed login into an *exchange.UpstreamError, scrubbed of the JWT.
func (e *Exchanger) upstream(err error, jwt string, timeout time.Duration) *exchange.UpstreamError {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		msg := strings.Join(re.Errors, "; ")
		if msg == "" {
			msg = http.StatusText(re.StatusCode)
		}
		up := exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{Status: re.StatusCode, Message: msg}, jwt)
		// Vault's JWT auth answers 400 also when it could not fetch the issuer's JWKS: an
		// outage of broker's public endpoint, not a refusal of the caller.
		up.Throttled = re.StatusCode == http.StatusBadRequest && strings.Contains(msg, provider.VaultIssuerUnreachable)
		return up
	}
	var msg string
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, exchange.ErrResponseTooLarge):
		msg = "login answer too large"
	default:
		// The client's own error names the cause (connection refused, an answer that is not
		// Vault's JSON, ...); Upstream scrubs the JWT should it ever appear.
		msg = "login request failed: " + err.Error()
	}
	return exchange.Upstream(exchange.Vault, exchange.UpstreamAnswer{Message: msg}, jwt)
}

// revoke revokes token with itself (auth/token/revoke-self, which Vault's default policy lets
// every token do), even once the caller gave up. A failure is logged, never the token.
func (e *Exchanger) revoke(ctx context.Context, vc *config.Vault, token string, timeout time.Duration) {
	client, err := e.client(vc, timeout)
	if err == nil {
		client.SetToken(token)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		err = client.Auth().Token().RevokeSelfWithContext(ctx, "")
	}
	if err != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "vault: a token broker did not hand out could not be revoked",
			slog.String(exchange.FieldErr, exchange.Scrub(err.Error(), token)))
	}
}

// Revoke takes back the Vault token of creds, which broker obtained through in and did not hand
// out (exchange.Revoker), within in's timeout.
func (e *Exchanger) Revoke(ctx context.Context, in config.Integration, creds exchange.Credentials) {
	if tok := creds.Env[EnvToken]; tok != "" {
		vc := &config.Vault{Address: creds.Env[EnvAddr], Namespace: creds.Env[EnvNamespace]}
		e.revoke(ctx, vc, tok, exchange.Timeout(in))
	}
}
