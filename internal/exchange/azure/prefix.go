package azure

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// splitAuthority separates an authority_host into the origin handed to the SDK and, when it has
// a path prefix (a private endpoint or proxy: https://host/prefix/), a transport that puts the
// prefix back on every request to that host. MSAL reads the authority's first path segment as
// the tenant, so a prefix cannot be given to it directly.
func splitAuthority(authority string, next policy.Transporter) (string, policy.Transporter, error) {
	u, err := url.Parse(authority)
	if err != nil || u.Host == "" {
		return "", nil, fmt.Errorf("authority_host %q is not a URL", authority)
	}
	origin := u.Scheme + "://" + u.Host + "/"
	prefix := strings.TrimSuffix(u.EscapedPath(), "/")
	if prefix == "" {
		return origin, next, nil
	}
	return origin, prefixed{next: next, host: u.Host, prefix: prefix, path: strings.TrimSuffix(u.Path, "/")}, nil
}

// prefixed sends requests for host with prefix prepended to their path.
type prefixed struct {
	next policy.Transporter
	host string
	// prefix is the prefix as written (escaped); path is the same decoded.
	prefix, path string
}

func (p prefixed) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Host == p.host && !strings.HasPrefix(req.URL.EscapedPath(), p.prefix+"/") {
		r := req.Clone(req.Context())
		// Path and RawPath together, so that the prefix's escapes are sent once, as written.
		r.URL.Path, r.URL.RawPath = p.path+req.URL.Path, p.prefix+req.URL.EscapedPath()
		req = r
	}
	return p.next.Do(req)
}
