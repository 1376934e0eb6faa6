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
