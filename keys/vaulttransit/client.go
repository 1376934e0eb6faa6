package vaulttransit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// MaxResponseBytes caps every answer body read from Vault.
const MaxResponseBytes = 1 << 20

// errTooLarge is the read error of an answer body beyond MaxResponseBytes.
var errTooLarge = fmt.Errorf("vaulttransit: Vault answer larger than %d bytes", MaxResponseBytes)

// newClient builds the Vault API client of cfg: its address, token and namespace (and no other
// address, namespace, token, header, response wrapping or rate limit from the environment), no
// retries (each call is bounded by cfg.Timeout and the caller retries), and answer bodies capped.
func newClient(cfg Config) (*vaultapi.Client, error) {
	vcfg := vaultapi.DefaultConfig() // TLS settings (VAULT_CACERT, ...) from the environment
	if vcfg.Error != nil {
		return nil, fmt.Errorf("vaulttransit: Vault client configuration from the environment (VAULT_*): %w", config.WithoutURL(vcfg.Error))
	}
	vcfg.Address = cfg.Address
	// Only the address configured: no Vault Agent (VAULT_AGENT_ADDR, which the client would
	// prefer), no SRV lookup, and no redirect, each of which would send the token elsewhere.
	vcfg.AgentAddress = ""
	vcfg.SRVLookup = false
	vcfg.DisableRedirects = true
	vcfg.Limiter = nil
	vcfg.MaxRetries = 0
	// No client-wide timeout (VAULT_CLIENT_TIMEOUT included): each call carries its own bound,
	// Timeout or, for one that makes Vault create a key, MinKeyTimeout, and the client's would
	// cut the longer one short.
	vcfg.Timeout = 0
	// Of the environment, only the CA and client certificate settings: no VAULT_SKIP_VERIFY,
	// and no VAULT_PROXY_ADDR or VAULT_HTTP_PROXY (the standard HTTPS_PROXY still applies, as to
	// every outbound call).
	if tr, ok := vcfg.HttpClient.Transport.(*http.Transport); ok {
		tr.Proxy = http.ProxyFromEnvironment
		if tr.TLSClientConfig != nil {
			tr.TLSClientConfig.InsecureSkipVerify = false
		}
	}
	base := vcfg.HttpClient.Transport
	if cfg.Transport != nil {
		base = cfg.Transport
	}
	vcfg.HttpClient.Transport = cappedTransport{base: base}
	vc, err := vaultapi.NewClient(vcfg)
	if err != nil {
		return nil, fmt.Errorf("vaulttransit: Vault client for %s: %w", cfg.Address, err)
	}
	vc.SetHeaders(http.Header{vaultapi.RequestHeaderName: []string{"true"}})
	vc.ClearNamespace()
	if cfg.Namespace != "" {
		vc.SetNamespace(cfg.Namespace)
	}
	vc.SetToken(cfg.Token)
	// No response wrapping (VAULT_WRAP_TTL): a wrapped answer holds no key and no signature.
	vc.SetWrappingLookupFunc(func(operation, path string) string { return "" })
	return vc, nil
}

// cappedTransport fails the read of an answer body beyond MaxResponseBytes.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: MaxResponseBytes}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errTooLarge
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// call runs fn with ctx cut off after the configured timeout, and describes its failure: the
// caller's own context error when ctx is done, else an error wrapping keys.ErrUnavailable (Vault
// unreachable, sealed, overloaded or refusing), never quoting anything but Vault's messages.
func (b *Backend) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return b.callWithin(ctx, op, b.cfg.Timeout, fn)
}

// vaultSays is what an error answer said, fit for the log and the audit trail: Vault's own
// messages with this backend's token blanked out, and nothing of an answer that is not Vault's
// JSON, since whatever answers at the address in Vault's stead (a proxy's error page) may quote
// the request, token header included.
func (b *Backend) vaultSays(re *vaultapi.ResponseError) string {
	if re.RawError {
		return "an answer that is not Vault's (not quoted)"
	}
	msg := strings.Join(re.Errors, "; ")
	if token := b.vc.Token(); len(token) >= 8 {
		msg = strings.ReplaceAll(msg, token, "[redacted]")
	}
	return msg
}

// callWithin is call bounded by timeout instead of the configured one.
func (b *Backend) callWithin(ctx context.Context, op string, timeout time.Duration, fn func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("vaulttransit: %s: %w", op, ctx.Err())
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%w: vault-transit: %s: Vault answered %d: %s", keys.ErrUnavailable, op, re.StatusCode, b.vaultSays(re))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: vault-transit: %s: no answer from Vault within %s", keys.ErrUnavailable, op, timeout)
	}
	return fmt.Errorf("%w: vault-transit: %s: %w", keys.ErrUnavailable, op, err)
}
