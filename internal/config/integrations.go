package config

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/provider"
)

var (
	// arn:aws:iam::123456789012:role/name, also in the aws-cn and aws-us-gov partitions.
	roleARNRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	// A service account is an email of letters, digits and '.', '_', '+', '-' before the '@'
	// and a domain name after it. It goes into the IAM Credentials path, so nothing else may
	// reach it.
	serviceAccountRE = regexp.MustCompile(`^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
	// A tenant is a GUID or a domain name: labels of letters, digits and '-', joined by '.'. It
	// goes into the authority's path, so nothing else may reach it.
	tenantRE = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$`)
	// A Vault role name as the JWT auth method's role paths take it: word characters, with '.'
	// and '-' inside (Vault answers 404 for auth/<mount>/role/ci@prod); it also ends up in a
	// shell line that `broker trust vault` prints.
	vaultRoleRE = regexp.MustCompile(`^\w([\w.-]*\w)?$`)
)

func (v *validator) checkIntegrations() {
	azureSeen, gcpSeen := false, false
	for i, in := range v.c.Integrations {
		base := joinIndex("integrations", i)
		v.checkRef(base+".space", refKind{name: "space", ids: v.spaces}, in.Space)
		v.notNegative(base+".duration", in.Duration)
		v.notNegative(base+".timeout", in.Timeout)
		if v.fileRules {
			v.checkFormats(base, in)
		}

		switch ps := in.providers(); len(ps) {
		case 0:
			v.add(base, in.ID, "integration %q needs one of %s", in.ID, provider.NameList())
			continue
		case 1:
		default:
			v.add(base, in.ID, "integration %q sets %s; exactly one of %s is allowed",
				in.ID, strings.Join(ps, " and "), provider.NameList())
		}
		if in.AWS != nil {
			v.checkAWS(base+".aws", in.AWS)
			// STS takes DurationSeconds from 900 to 43200; outside that broker would either be
			// refused at every exchange or, under a second, send none and get STS's hour.
			if d := in.Duration; d != 0 && (d < provider.AWSMinSession || d > provider.AWSMaxSession || d%time.Second != 0) {
				v.add(base+".duration", d.String(), "%q is outside what STS grants: whole seconds from 15m to 12h", d.String())
			}
		}
		if in.GCP != nil {
			v.checkGCP(base+".gcp", in.GCP)
			if l := (Lifetimes{Token: v.c.Tokens.TTL, Run: v.c.Runs.TTL}); !gcpSeen && longForGCP(l) {
				v.add("tokens.ttl", l.Token.String(), "%q is too long for GCP integration %q while runs.ttl is %s: Google STS refuses a token living %s or more; under %s",
					l.Token.String(), in.ID, l.Run, provider.GCPMaxSubjectToken, provider.GCPMaxSubjectToken)
			}
			gcpSeen = true
			// generateAccessToken takes a lifetime in whole seconds, at most 12h (over 1h only
			// where the organisation allows it); a longer one would be refused at every exchange,
			// and so would one that leaves less than MinValidity when the token arrives, by broker.
			if d := in.Duration; d != 0 && (d < provider.MinLifetime || d > 12*time.Hour || d%time.Second != 0) {
				v.add(base+".duration", d.String(), "%q is outside what Google grants: whole seconds from %ds up to 12h", d.String(), int(provider.MinLifetime.Seconds()))
			}
		}
		if in.Azure != nil {
			v.checkAzure(base+".azure", in.Azure)
			// Entra ID takes no lifetime: duration only caps the one it grants, at least 10m, and
			// broker refuses a token living more than LifetimeSlack past the cap, so a cap under
			// their difference would refuse every exchange.
			if floor := provider.AzureMinToken - provider.LifetimeSlack; in.Duration != 0 && in.Duration < floor {
				v.add(base+".duration", in.Duration.String(), "%q would refuse every token Entra ID grants (at least %s, and broker allows %s past the duration): at least %s",
					in.Duration.String(), provider.AzureMinToken, provider.LifetimeSlack, floor)
			}
			if !azureSeen {
				azureSeen = true
				v.checkAzureTokenLifetimes(in.ID)
			}
		}
		if in.Vault != nil {
			v.checkVault(base+".vault", in.Vault)
			// The role broker prints sets the token's TTLs to the duration, and Vault reads them
			// in whole seconds: under a second is 0 there, which gives the mount's default
			// lifetime (32 days unless tuned) instead of a short one. One that leaves less than
			// MinValidity when the token arrives would be refused at every exchange.
			if d := in.Duration; d != 0 && (d < provider.MinLifetime || d%time.Second != 0) {
				v.add(base+".duration", d.String(), "%q is outside what a Vault token needs: whole seconds, at least %ds", d.String(), int(provider.MinLifetime.Seconds()))
			}
		}
	}
}

// checkAzureTokenLifetimes checks that an Azure exchange can ever succeed under the file's
// tokens.ttl and runs.ttl (see shortForAzure), and that of a fresh run (see longForAzure). id
// names the first Azure integration, which the problems name.
func (v *validator) checkAzureTokenLifetimes(id string) {
	l := Lifetimes{Token: v.c.Tokens.TTL, Run: v.c.Runs.TTL}
	for _, d := range shortForAzure(l) {
		v.add(d.key, d.ttl.String(), "%q is too short for Azure integration %q: the ARM_OIDC_TOKEN it hands over lives %s at most and must still have %s left when it arrives; at least %s",
			d.ttl.String(), id, d.key, provider.MinValidity, provider.MinLifetime)
	}
	if longForAzure(l) {
		v.add("tokens.ttl", l.Token.String(), "%q is too long for Azure integration %q while runs.ttl is %s: Entra ID refuses an assertion (and the ARM_OIDC_TOKEN) living over %s; at most %s",
			l.Token.String(), id, l.Run, provider.AzureMaxAssertion, provider.AzureMaxAssertion)
	}
}

// longForAzure reports whether l would refuse the Azure exchanges of a fresh run: its token
// lives tokens.ttl, or less when the run ends sooner, and Entra ID takes no assertion living
// over provider.AzureMaxAssertion.
func longForAzure(l Lifetimes) bool {
	return min(l.Token, l.Run) > provider.AzureMaxAssertion
}

// longForGCP reports whether l would refuse the GCP exchanges of a fresh run: its token lives
// tokens.ttl, or less when the run ends sooner, and Google STS takes none living
// provider.GCPMaxSubjectToken or more.
func longForGCP(l Lifetimes) bool {
	return min(l.Token, l.Run) >= provider.GCPMaxSubjectToken
}

// Lifetimes are the lifetimes broker runs with that an integration may depend on: tokens.ttl
// and runs.ttl.
type Lifetimes struct {
	Token, Run time.Duration
}

// lifetimeKey is one of Lifetimes with its configuration key.
type lifetimeKey struct {
	key string
	ttl time.Duration
}

// shortForAzure returns the lifetimes of l that would refuse every Azure exchange: the
// ARM_OIDC_TOKEN an exchange hands over is minted then, lives tokens.ttl and never past its
// run, and must still have MinValidity left when it arrives, so either lifetime under
// MinLifetime is too short. A zero lifetime is not set, and not checked here.
func shortForAzure(l Lifetimes) []lifetimeKey {
	var out []lifetimeKey
	for _, d := range []lifetimeKey{{"tokens.ttl", l.Token}, {"runs.ttl", l.Run}} {
		if d.ttl > 0 && d.ttl < provider.MinLifetime {
			out = append(out, d)
		}
	}
	return out
}

// CheckIntegrationLifetimes reports, with paths under base (as "integrations[3]"), the problems
// the lifetimes broker runs with make for in: under a tokens.ttl or runs.ttl too short for it
// (see shortForAzure), an Azure integration would have every exchange refused, and under both
// too long (see longForAzure) those of a fresh run. Validate checks
// the file's integrations, naming tokens.ttl and runs.ttl; the API checks each integration a
// change puts, naming the integration, since the lifetimes are not the API's to change.
func CheckIntegrationLifetimes(in Integration, base string, l Lifetimes) error {
	v := &validator{c: &Config{}}
	if in.GCP != nil && longForGCP(l) {
		v.add(base+".gcp", "", "a GCP integration needs tokens.ttl or runs.ttl under %s, and broker runs with %s and %s: Google STS refuses a token living longer",
			provider.GCPMaxSubjectToken, l.Token, l.Run)
	}
	if in.Azure == nil {
		return v.errs.orNil()
	}
	for _, d := range shortForAzure(l) {
		v.add(base+".azure", "", "an Azure integration needs %s of at least %s, and broker runs with %s: the ARM_OIDC_TOKEN it hands over lives %s at most and must still have %s left when it arrives",
			d.key, provider.MinLifetime, d.ttl, d.key, provider.MinValidity)
	}
	if longForAzure(l) {
		v.add(base+".azure", "", "an Azure integration needs tokens.ttl or runs.ttl of at most %s, and broker runs with %s and %s: Entra ID refuses an assertion (and the ARM_OIDC_TOKEN) living longer",
			provider.AzureMaxAssertion, l.Token, l.Run)
	}
	return v.errs.orNil()
}

func (v *validator) required(path, value string) bool {
	if value == "" {
		v.add(path, "", "required")
		return false
	}
	return true
}

func (v *validator) optionalURL(path, value string) {
	if value != "" {
		v.checkBaseURL(path, value)
	}
}

func (v *validator) checkAWS(base string, a *AWS) {
	if a.Mode != AWSModeWebIdentity && a.Mode != AWSModeAssumeRole {
		v.add(base+".mode", a.Mode, "unknown mode %q (want web-identity or assume-role)", a.Mode)
	}
	if v.required(base+".role_arn", a.RoleARN) && !roleARNRE.MatchString(a.RoleARN) {
		v.add(base+".role_arn", a.RoleARN,
			"%q is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)", a.RoleARN)
	}
	v.optionalURL(base+".sts_endpoint", a.STSEndpoint)
	// An assume-role call's ExternalId begins with the issuer's host, and STS takes an
	// ExternalId of [\w+=,.@:/-] only: an IPv6 literal's brackets would fail every exchange.
	if a.Mode == AWSModeAssumeRole && strings.ContainsAny(IssuerHost(v.c.Issuer), "[]") {
		v.add(base+".mode", a.Mode, "assume-role needs an issuer named by a host name or an IPv4 address: its host begins the ExternalId, where STS takes no %q", IssuerHost(v.c.Issuer))
	}
	if a.Region == "" && roleARNRE.MatchString(a.RoleARN) && provider.AWSDefaultRegion(a.RoleARN, a.STSEndpoint) == "" {
		v.add(base+".region", a.RoleARN, "required: the partition of %q has no STS endpoint this build knows the region of", a.RoleARN)
	}
}

func (v *validator) checkGCP(base string, g *GCP) {
	if v.required(base+".workload_identity_provider", g.WorkloadIdentityProvider) &&
		!provider.ValidGCPProviderName(g.WorkloadIdentityProvider) {
		// The rule is written into the format: a message's string arguments are cut past
		// maxShown bytes (cutArgs), and the rule is longer.
		v.add(base+".workload_identity_provider", g.WorkloadIdentityProvider,
			"%q is not a provider resource name ("+provider.GCPProviderNameRule+")", g.WorkloadIdentityProvider)
	}
	if v.required(base+".service_account", g.ServiceAccount) && !serviceAccountRE.MatchString(g.ServiceAccount) {
		v.add(base+".service_account", g.ServiceAccount, "%q is not a service account email", g.ServiceAccount)
	}
	for j, s := range g.Scopes {
		if s == "" {
			v.add(joinIndex(base+".scopes", j), "", "empty scope")
		}
	}
	v.optionalURL(base+".sts_endpoint", g.STSEndpoint)
	v.optionalURL(base+".iam_credentials_endpoint", g.IAMCredentialsEndpoint)
}

func (v *validator) checkAzure(base string, a *Azure) {
	if v.required(base+".tenant_id", a.TenantID) && !tenantRE.MatchString(a.TenantID) {
		v.add(base+".tenant_id", a.TenantID, "%q is not a tenant id (a GUID or a domain name)", a.TenantID)
	}
	v.required(base+".client_id", a.ClientID)
	v.optionalURL(base+".authority_host", a.AuthorityHost)
	// The scheme is case-insensitive: HTTP:// is http.
	if u, err := url.Parse(a.AuthorityHost); err == nil && u.Scheme == "http" {
		v.add(base+".authority_host", a.AuthorityHost, "must be https: Microsoft's identity client refuses any other authority")
	}
}

func (v *validator) checkVault(base string, vt *Vault) {
	if v.required(base+".address", vt.Address) {
		v.checkBaseURL(base+".address", vt.Address)
	}
	if v.required(base+".role", vt.Role) && !vaultRoleRE.MatchString(vt.Role) {
		v.add(base+".role", vt.Role, "%q is not a Vault role name (letters, digits, '_', and '-', '.' inside)", vt.Role)
	}
	// The mount and the namespace go into Vault paths as they are: no segment may climb.
	if v.required(base+".mount", vt.Mount) && !transitMountPattern.MatchString(strings.Trim(vt.Mount, "/")) {
		v.add(base+".mount", vt.Mount, "%q is not a mount path (letters, digits, '_', '.', '-', separated by '/')", vt.Mount)
	}
	if ns := strings.Trim(vt.Namespace, "/"); vt.Namespace != "" && !transitMountPattern.MatchString(ns) {
		v.add(base+".namespace", vt.Namespace, "%q is not a namespace path (letters, digits, '_', '.', '-', separated by '/')", vt.Namespace)
	}
}

// IssuerHost is the host (with its port, if any) of the issuer URL issuer, as an assume-role
// ExternalId begins with it; "" when issuer is not a URL.
func IssuerHost(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return u.Host
}
