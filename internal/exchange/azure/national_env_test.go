package azure

import (
	"context"
	"testing"
)

// TestNationalAuthorityNamesItsCloud checks that an integration whose authority_host is a
// national cloud's Entra ID hands the run ARM_ENVIRONMENT beside the ARM_* variables, so that
// azurerm, doing the exchange itself, goes to that cloud and not to the public one, where the
// tenant is unknown.
func TestNationalAuthorityNamesItsCloud(t *testing.T) {
	cases := []struct{ host, environment string }{
		{"login.microsoftonline.us", "usgovernment"},
		{"login.chinacloudapi.cn", "china"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			f := newFixture(t, nil)
			f.emu.SetHost("https://" + tc.host)
			base := redirect{from: tc.host, to: f.srv.Listener.Addr().String(),
				base: f.srv.Client().Transport}
			x := New(Options{HTTPClient: f.httpClient(base)})
			in := f.integration("az-read", readClient)
			in.Azure.AuthorityHost = "https://" + tc.host
			req, _ := f.request(t, in, readSubject)
			creds, err := x.Exchange(context.Background(), req)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if got := creds.Env["ARM_ENVIRONMENT"]; got != tc.environment {
				t.Errorf("ARM_ENVIRONMENT = %q, want %q (env names %v)",
					got, tc.environment, envNames(creds.Env))
			}
		})
	}
}

// envNames lists the names of env, never its values (they hold a token).
func envNames(env map[string]string) []string {
	var names []string
	for name := range env {
		names = append(names, name)
	}
	return names
}
