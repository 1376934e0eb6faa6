package azure

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAuthorityWithPathPrefix: an authority_host with a path prefix (a private endpoint or a
// proxy) in front of an Entra that knows nothing of it, as the real one does not (its OpenID
// configuration names login.microsoftonline.com), gets the token request under that prefix,
// although MSAL itself would read the prefix as the tenant, and nothing else: the assertion
// never goes to the host Entra's own documents name.
//
// A prefix spelled as the tenant is a prefix all the same: the request goes to
// <prefix>/<tenant>/oauth2/v2.0/token (on the old code it lost the prefix).
func TestAuthorityWithPathPrefix(t *testing.T) {
	for _, prefix := range []string{"/login/entra", "/" + tenantID} {
		t.Run(prefix, func(t *testing.T) {
			var seen []string
			f := newFixture(t, func(emu http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen = append(seen, r.Method+" "+r.URL.Path)
					rest, ok := strings.CutPrefix(r.URL.Path, prefix)
					if !ok {
						http.NotFound(w, r)
						return
					}
					r2 := r.Clone(r.Context())
					r2.URL.Path = rest
					emu.ServeHTTP(w, r2)
				})
			})
			f.emu.SetHost("https://login.microsoftonline.com")
			in := f.integration("az-read", readClient)
			in.Azure.AuthorityHost = f.srv.URL + prefix + "/"
			req, _ := f.request(t, in, readSubject)
			if _, err := f.x.Exchange(context.Background(), req); err != nil {
				t.Fatalf("exchange through a prefixed authority: %v (requests %v)", err, seen)
			}
			if want := []string{"POST " + prefix + "/" + tenantID + "/oauth2/v2.0/token"}; !slices.Equal(seen, want) {
				t.Errorf("requests through the authority: %v, want %v", seen, want)
			}
			if calls := f.tokenCalls(); len(calls) != 1 || calls[0].Outcome != "ok" {
				t.Errorf("token calls %+v", calls)
			}
		})
	}
}

// TestAuthorityTransportCallsTheAuthorityOnly: the tenant's OpenID configuration is answered by
// the transport itself, naming the token endpoint under the authority; a request for any other
// host is refused before it is sent.
func TestAuthorityTransportCallsTheAuthorityOnly(t *testing.T) {
	rec := &sentTo{}
	origin, tr, err := splitAuthority("https://proxy.example/entra/", "tenant-1", rec)
	if err != nil {
		t.Fatal(err)
	}
	get, _ := http.NewRequest("GET", origin+"tenant-1/v2.0/.well-known/openid-configuration", nil)
	resp, err := tr.Do(get)
	if err != nil || resp.StatusCode != http.StatusOK || rec.url != "" {
		t.Fatalf("openid-configuration: %v, %v; sent to %q", resp, err, rec.url)
	}
	var doc map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["token_endpoint"] != "https://proxy.example/tenant-1/oauth2/v2.0/token" || doc["issuer"] != "https://proxy.example/tenant-1/v2.0" {
		t.Errorf("openid-configuration %v", doc)
	}
	for _, u := range []string{"https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", "http://proxy.example/tenant-1/oauth2/v2.0/token"} {
		post, _ := http.NewRequest("POST", u, nil)
		if _, err := tr.Do(post); err == nil || rec.url != "" {
			t.Errorf("POST %s: %v, sent to %q; want it refused", u, err, rec.url)
		}
	}
}

// sentTo is a Transporter recording the URL of the request it is given.
type sentTo struct{ url string }

func (s *sentTo) Do(req *http.Request) (*http.Response, error) {
	s.url = req.URL.String()
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// TestAuthorityPrefixKeepsItsEscapes: a prefix written with percent-escapes reaches the wire as
// written, escaped once.
func TestAuthorityPrefixKeepsItsEscapes(t *testing.T) {
	rec := &sentTo{}
	origin, tr, err := splitAuthority("https://proxy.example/entra%20id/", "tenant-1", rec)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", origin+"tenant-1/oauth2/v2.0/token", nil)
	if _, err := tr.Do(req); err != nil {
		t.Fatal(err)
	}
	if want := "https://proxy.example/entra%20id/tenant-1/oauth2/v2.0/token"; rec.url != want {
		t.Errorf("sent to %s, want %s", rec.url, want)
	}
}
