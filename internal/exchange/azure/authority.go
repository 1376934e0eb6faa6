package azure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// splitAuthority returns, for an authority_host and a tenant, the origin handed to the SDK and
// the transport its requests go through. Every exchange posts its assertion to
// <authority_host>/<tenant>/oauth2/v2.0/token and calls nothing else:
//   - MSAL asks <origin>/<tenant>/v2.0/.well-known/openid-configuration for the token endpoint.
//     That document is answered here, naming exactly that endpoint, so that no document served
//     at the authority (a proxy in front of Entra relays Entra's, which names
//     login.microsoftonline.com) can send the assertion past the configured host;
//   - a path prefix (a private endpoint or proxy: https://host/prefix/) is put back on every
//     request, since MSAL reads the authority's first path segment as the tenant;
//   - a request for any other host is refused.
func splitAuthority(authority, tenant string, next policy.Transporter) (string, policy.Transporter, error) {
	u, err := url.Parse(authority)
	if err != nil || u.Host == "" {
		return "", nil, fmt.Errorf("authority_host %q is not a URL", authority)
	}
	origin := u.Scheme + "://" + u.Host + "/"
	if prefix := strings.TrimSuffix(u.EscapedPath(), "/"); prefix != "" {
		next = prefixed{next: next, host: u.Host, prefix: prefix, path: strings.TrimSuffix(u.Path, "/")}
	}
	return origin, pinned{next: next, scheme: u.Scheme, host: u.Host, metadata: tenantMetadata(origin, tenant)}, nil
}

// tenantMetadata is the tenant's OpenID configuration as Entra serves it, with the fields MSAL
// reads, for the authority at origin.
func tenantMetadata(origin, tenant string) []byte {
	base := origin + url.PathEscape(tenant)
	body, _ := json.Marshal(map[string]string{
		"issuer":                 base + "/v2.0",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	})
	return body
}

// pinned answers the tenant's OpenID configuration itself and refuses requests for any host but
// the authority's.
type pinned struct {
	next         policy.Transporter
	scheme, host string
	metadata     []byte
}

func (p pinned) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != p.scheme || !strings.EqualFold(req.URL.Host, p.host) {
		return nil, fmt.Errorf("a request for %s://%s, not the authority_host, was not sent", req.URL.Scheme, req.URL.Host)
	}
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/v2.0/.well-known/openid-configuration") {
		return &http.Response{
			StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(bytes.NewReader(p.metadata)),
			ContentLength: int64(len(p.metadata)),
			Request:       req,
		}, nil
	}
	return p.next.Do(req)
}

// prefixed sends requests for host with prefix prepended to their path, whatever the path: a
// path that already starts with the prefix (a prefix spelled as the tenant) still gets it.
type prefixed struct {
	next policy.Transporter
	host string
	// prefix is the prefix as written (escaped); path is the same decoded.
	prefix, path string
}

func (p prefixed) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Host == p.host {
		r := req.Clone(req.Context())
		// Path and RawPath together, so that the prefix's escapes are sent once, as written.
		r.URL.Path, r.URL.RawPath = p.path+req.URL.Path, p.prefix+req.URL.EscapedPath()
		req = r
	}
	return p.next.Do(req)
}
