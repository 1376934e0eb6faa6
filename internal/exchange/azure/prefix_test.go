package azure

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAuthorityWithPathPrefix: an authority_host with a path prefix (a private endpoint or a
// proxy) reaches the token endpoint under that prefix, although MSAL itself would read the
// prefix as the tenant.
func TestAuthorityWithPathPrefix(t *testing.T) {
	var seen []string
	f := newFixture(t, func(emu http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.URL.Path)
			rest, ok := strings.CutPrefix(r.URL.Path, "/login/entra")
			if !ok {
				http.NotFound(w, r)
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = rest
			emu.ServeHTTP(w, r2)
		})
	})
	f.emu.SetHost(f.srv.URL + "/login/entra")
	in := f.integration("az-read", readClient)
	in.Azure.AuthorityHost = f.srv.URL + "/login/entra/"
	req, _ := f.request(t, in, readSubject)
	if _, err := f.x.Exchange(context.Background(), req); err != nil {
		t.Fatalf("exchange through a prefixed authority: %v (requests %v)", err, seen)
	}
	for _, p := range seen {
		if !strings.HasPrefix(p, "/login/entra/"+tenantID+"/") {
			t.Errorf("request to %s: prefix or tenant lost", p)
		}
	}
	if calls := f.tokenCalls(); len(calls) != 1 || calls[0].Outcome != "ok" {
		t.Errorf("token calls %+v", calls)
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
	origin, tr, err := splitAuthority("https://proxy.example/entra%20id/", rec)
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
