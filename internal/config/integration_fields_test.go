package config

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fieldCase is one value of one integration field: the provider block it sits in, the field's
// file key and whether validation must accept it.
type fieldCase struct {
	provider, key, value string
	ok                   bool
}

// baseBlocks are provider blocks valid without the field under test, in file keys.
var baseBlocks = map[string]map[string]any{
	"aws": {"role_arn": "arn:aws:iam::123456789012:role/broker-read"},
	"gcp": {
		"workload_identity_provider": "projects/123456/locations/global/workloadIdentityPools/broker/providers/broker",
		"service_account":            "terraform@my-project.iam.gserviceaccount.com",
	},
	"azure": {
		"tenant_id": "00000000-0000-0000-0000-000000000001",
		"client_id": "00000000-0000-0000-0000-000000000002",
	},
}

func fieldCases() []fieldCase {
	var out []fieldCase
	add := func(provider, key string, ok bool, values ...string) {
		for _, v := range values {
			out = append(out, fieldCase{provider, key, v, ok})
		}
	}
	add("aws", "region", true, "us-east-1", "eu-west-1", "ap-southeast-2", "il-central-1", "mx-central-1",
		"us-gov-west-1", "cn-north-1", "cn-northwest-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "eusc-de-east-1")
	add("aws", "region", false, "US-EAST-1", "us-east", "useast1", "us_east_1", "us-east-1a", "aws-global", "us--east-1",
		"-east-1", "us-east-1 ", "us-east-1\n", "eu-west-1.evil.example", "us-east-1/x", "sts.amazonaws.com")

	// Google takes pool and provider ids of 4 to 32 lowercase letters, digits and hyphens,
	// none starting with "gcp-"; the project is named by its number.
	const wip = "projects/123456/locations/global/workloadIdentityPools/"
	add("gcp", "workload_identity_provider", true, wip+"pool/providers/prov", wip+"gcpx/providers/gcp1",
		wip+strings.Repeat("a", 32)+"/providers/"+strings.Repeat("0", 32), wip+"my-gcp-pool/providers/broker-oidc")
	add("gcp", "workload_identity_provider", false, wip+"p/providers/prov", wip+"pool/providers/q",
		wip+"abc/providers/prov", wip+"pool/providers/"+strings.Repeat("a", 33), wip+strings.Repeat("a", 33)+"/providers/prov",
		wip+"gcp-pool/providers/prov", wip+"pool/providers/gcp-oidc", wip+"Pool/providers/prov", wip+"pool/providers/prov_1",
		"projects/my-project/locations/global/workloadIdentityPools/pool/providers/prov")

	add("gcp", "scopes", true, "https://www.googleapis.com/auth/cloud-platform",
		"https://www.googleapis.com/auth/cloud-platform.read-only", "https://www.googleapis.com/auth/userinfo.email",
		"https://mail.google.com/")
	add("gcp", "scopes", false, "cloud-platform", "openid", "www.googleapis.com/auth/cloud-platform",
		"http://www.googleapis.com/auth/cloud-platform", "https:///auth/cloud-platform",
		"https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/iam",
		"https://www.googleapis.com/auth/cloud-platform\n", "https://www.googleapis.com/auth/x?y=1",
		"https://www.googleapis.com/auth/x#y", "https://u@www.googleapis.com/auth/cloud-platform")

	add("azure", "tenant_id", true, "00000000-0000-0000-0000-000000000001", "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
		"contoso.onmicrosoft.com", "login.contoso.com", "xn--80ak6aa92e.com")
	add("azure", "tenant_id", false, "t", "common", "organizations", "contoso/evil", "..", "a..b.com", "-a.com", "a-.com",
		"a.com.", "a.123", "contoso.onmicrosoft.com/../x", "contoso.onmicrosoft.com?x", strings.Repeat("a.", 127)+"com")

	add("azure", "client_id", true, "00000000-0000-0000-0000-000000000002", "0A1B2C3D-4E5F-6a7b-8c9d-0e1f2a3b4c5d")
	add("azure", "client_id", false, "read-app", "c", "{00000000-0000-0000-0000-000000000002}",
		"00000000000000000000000000000002", "00000000-0000-0000-0000-00000000000g", "00000000-0000-0000-0000-000000000002\n",
		"00000000-0000-0000-0000-000000000002 ", "api://00000000-0000-0000-0000-000000000002")

	add("azure", "subscription_id", true, "00000000-0000-0000-0000-000000000003")
	add("azure", "subscription_id", false, "sub-1", "/subscriptions/00000000-0000-0000-0000-000000000003",
		"00000000-0000-0000-0000-000000000003;x")

	add("azure", "scope", true, "https://management.azure.com/.default", "https://graph.microsoft.com/.default",
		"https://management.usgovcloudapi.net/.default", "https://database.windows.net//.default",
		"api://00000000-0000-0000-0000-000000000002/.default", "00000003-0000-0000-c000-000000000000/.default")
	add("azure", "scope", false, "https://management.azure.com", "https://management.azure.com/user_impersonation",
		".default", "/.default", "management.azure.com/.default", "read-app/.default",
		"https://management.azure.com/.default openid", "https://a.example/.default https://b.example/.default",
		"https://management.azure.com/.default\n", "https://x.example/?a=1/.default", "https://x.example/#a/.default",
		"https://u:pw@management.azure.com/.default")
	return out
}

// blockOf is c's provider block with the field under test set, keys as key renders them.
func blockOf(c fieldCase, key func(string) string) map[string]any {
	b := map[string]any{}
	for k, v := range baseBlocks[c.provider] {
		b[key(k)] = v
	}
	if c.key == "scopes" {
		b[key(c.key)] = []string{c.value}
	} else {
		b[key(c.key)] = c.value
	}
	return b
}

// fieldPath is where, below an integration, a problem with c's value is reported.
func fieldPath(c fieldCase) string {
	p := c.provider + "." + c.key
	if c.key == "scopes" {
		p += "[0]"
	}
	return p
}

// fileOf is a configuration file holding one integration with c's value (JSON is YAML).
func fileOf(t *testing.T, c fieldCase) string {
	t.Helper()
	in, err := json.Marshal(map[string]any{"id": "it", "space": "root", c.provider: blockOf(c, func(k string) string { return k })})
	if err != nil {
		t.Fatal(err)
	}
	return iss + "integrations:\n  - " + string(in) + "\n"
}

// apiConfig is the objects the API validates after decoding a PUT /v1/integrations/it body
// holding c's value (with ValidateObjects, and CheckIntegrationFormats on the integration put).
func apiConfig(t *testing.T, c fieldCase) *Config {
	t.Helper()
	body, err := json.Marshal(map[string]any{"space": "root", c.provider: blockOf(c, CamelKey)})
	if err != nil {
		t.Fatal(err)
	}
	var in Integration
	if err := DecodeJSON(body, &in); err != nil {
		t.Fatalf("DecodeJSON(%s) = %v", body, err)
	}
	in.ID = "it"
	cfg := &Config{Spaces: []Space{{ID: "root"}}, Integrations: []Integration{in}}
	cfg.ApplyObjectDefaults()
	return cfg
}

// TestIntegrationFieldFormats: every integration field that reaches a cloud request, a trust
// document or a run's environment is checked for the cloud's format, by the file loader and by
// the API's validation alike. A bad value is one problem at that field's path, quoting it; a
// good one passes.
func TestIntegrationFieldFormats(t *testing.T) {
	for _, c := range fieldCases() {
		name := c.provider + "." + c.key + "=" + c.value
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		path := "integrations[0]." + fieldPath(c)
		t.Run("file/"+name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(fileOf(t, c)))
			checkFieldResult(t, c, err, path, true)
		})
		t.Run("api/"+name, func(t *testing.T) {
			cfg := apiConfig(t, c)
			err := cfg.ValidateObjects()
			if err == nil {
				err = CheckIntegrationFormats(cfg.Integrations[0], "integrations[0]")
			}
			checkFieldResult(t, c, err, path, false)
			if err != nil && !c.ok {
				if got, want := CamelPath(strings.TrimPrefix(path, "integrations[0].")), c.provider+"."+CamelKey(c.key); !strings.HasPrefix(got, want) {
					t.Errorf("API field %q, want %q", got, want)
				}
			}
		})
	}
}

func checkFieldResult(t *testing.T, c fieldCase, err error, path string, withLine bool) {
	t.Helper()
	if c.ok {
		if err != nil {
			t.Fatalf("refused a valid %s %q: %v", c.key, c.value, err)
		}
		return
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("accepted an invalid %s %q (err %v)", c.key, c.value, err)
	}
	if len(errs) != 1 {
		t.Errorf("got %d problems, want 1:\n%v", len(errs), err)
	}
	fe := errs[0]
	if fe.Path != path {
		t.Errorf("problem at %q, want %q: %v", fe.Path, path, fe)
	}
	if withLine && fe.Line == 0 {
		t.Errorf("problem without a line: %v", fe)
	}
	if !strings.Contains(fe.Msg, "not") {
		t.Errorf("message %q does not say what is wrong", fe.Msg)
	}
	if strings.Contains(fe.Error(), "pw@") {
		t.Errorf("the problem repeats a password: %v", fe)
	}
}

// TestIntegrationFieldFormatsAllAtOnce: one file with a bad value in each field gets every
// problem reported in one error.
func TestIntegrationFieldFormatsAllAtOnce(t *testing.T) {
	src := iss + `integrations:
  - id: a
    space: root
    aws: {role_arn: "arn:aws:iam::123456789012:role/r", region: eu-west}
  - id: g
    space: root
    gcp:
      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov
      service_account: a@p.iam.gserviceaccount.com
      scopes: [https://www.googleapis.com/auth/cloud-platform, cloud-platform]
  - id: z
    space: root
    azure: {tenant_id: common, client_id: read-app, subscription_id: sub-1, scope: "https://management.azure.com"}
`
	_, err := Parse("t.yaml", []byte(src))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse() = %v, want Errors", err)
	}
	want := []string{"integrations[0].aws.region", "integrations[1].gcp.scopes[1]", "integrations[2].azure.tenant_id",
		"integrations[2].azure.client_id", "integrations[2].azure.subscription_id", "integrations[2].azure.scope"}
	var got []string
	for _, fe := range errs {
		got = append(got, fe.Path)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems at %v, want %v:\n%v", got, want, err)
	}
}
