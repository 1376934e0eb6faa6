package config

import (
	"strings"
	"testing"
)

// TestUpstreamURLQueryNotRepeated checks that an upstream endpoint refused for a query or a
// fragment is named without them, as they may hold a credential (?token=...): the refusal is
// logged and, on a reload, recorded in the audit trail and sent to every audit sink.
func TestUpstreamURLQueryNotRepeated(t *testing.T) {
	const secret = "Tok3n-0123456789abcdef"
	for _, tc := range []struct {
		name, yaml, path string
	}{
		{"token in a Vault address's query",
			withIntegration("    vault: {address: \"https://vault.example.com/?token=" + secret +
				"\", role: r}\n"), "integrations[0].vault.address"},
		{"token in an STS endpoint's fragment",
			withIntegration("    aws: {role_arn: \"arn:aws:iam::123456789012:role/x\", " +
				"sts_endpoint: \"https://sts.example.com/#" + secret + "\"}\n"),
			"integrations[0].aws.sts_endpoint"},
		{"token in a schemeless GCP endpoint's query",
			withIntegration(gcpAt("sts.example.com/?key=" + secret)),
			"integrations[0].gcp.sts_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name %s", err, tc.path)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error repeats the query's secret: %q", err)
			}
			for _, fe := range err.(Errors) {
				if strings.Contains(fe.Value, secret) {
					t.Errorf("field error %+v holds the secret", fe)
				}
			}
		})
	}
}

// gcpAt is a gcp integration block whose sts_endpoint is endpoint.
func gcpAt(endpoint string) string {
	return "    gcp:\n" +
		"      workload_identity_provider: " +
		"projects/1/locations/global/workloadIdentityPools/p/providers/p\n" +
		"      service_account: sa@p.iam.gserviceaccount.com\n" +
		"      sts_endpoint: \"" + endpoint + "\"\n"
}
