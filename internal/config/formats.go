package config

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/brokerhq/broker/internal/provider"
)

var (
	// An AWS region code: it names the STS host, scopes every signature and is the run's
	// AWS_REGION.
	awsRegionRE = provider.AWSRegionRE
	// A GUID, as Entra writes application (client), tenant and subscription ids.
	guidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	// A domain name of two labels or more (contoso.onmicrosoft.com): each label letters, digits
	// and inner '-', the last one starting with a letter. A tenant so named goes into the
	// authority's path, so nothing else may reach it; a single label (common, organizations)
	// names no one tenant.
	domainRE = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
)

// CheckIntegrationFormats reports, with paths under base (as "integrations[3]"), the problems
// of the formats of in's cloud identifiers: an AWS region, Azure's tenant, client and
// subscription ids and scope, GCP's scopes. Validate checks them on the file's integrations;
// ValidateObjects does not, so that an integration stored through the API before a rule
// existed leaves every other change possible, and the API checks them on each integration a
// change puts.
func CheckIntegrationFormats(in Integration, base string) error {
	v := &validator{c: &Config{}}
	v.checkFormats(base, in)
	return v.errs.orNil()
}

// checkFormats checks the formats of in's cloud identifiers (see CheckIntegrationFormats).
func (v *validator) checkFormats(base string, in Integration) {
	if a := in.AWS; a != nil && a.Region != "" && !awsRegionRE.MatchString(a.Region) {
		v.add(base+".aws.region", a.Region, "%q is not an AWS region code (such as eu-west-1 or us-gov-west-1)", a.Region)
	}
	if g := in.GCP; g != nil {
		for j, s := range g.Scopes {
			if s != "" && !isScopeURL(s, "https") {
				v.add(joinIndex(base+".gcp.scopes", j), s,
					"%q is not an OAuth scope URL (https://www.googleapis.com/auth/<scope>, no spaces, query or fragment)", s)
			}
		}
	}
	a := in.Azure
	if a == nil {
		return
	}
	base += ".azure"
	// A tenant id the rule for every object refuses has its problem already.
	if a.TenantID != "" && tenantRE.MatchString(a.TenantID) && !isTenant(a.TenantID) {
		v.add(base+".tenant_id", a.TenantID,
			"%q is not a tenant id (a GUID, or a domain name of the tenant such as contoso.onmicrosoft.com)", a.TenantID)
	}
	if a.ClientID != "" && !guidRE.MatchString(a.ClientID) {
		v.add(base+".client_id", a.ClientID, "%q is not an application (client) id: a GUID such as %s", a.ClientID, exampleGUID)
	}
	if a.SubscriptionID != "" && !guidRE.MatchString(a.SubscriptionID) {
		v.add(base+".subscription_id", a.SubscriptionID, "%q is not a subscription id: a GUID such as %s", a.SubscriptionID, exampleGUID)
	}
	if a.Scope != "" && !isAzureScope(a.Scope) {
		v.add(base+".scope", a.Scope,
			"%q is not a client-credentials scope: a resource (an absolute URI or a GUID) followed by /.default, such as https://management.azure.com/.default",
			a.Scope)
	}
}

// exampleGUID shows the form of a GUID in messages.
const exampleGUID = "00000000-0000-0000-0000-000000000000"

// isTenant reports whether t names one Entra tenant: its GUID, or one of its domain names
// (at most 253 characters).
func isTenant(t string) bool {
	return guidRE.MatchString(t) || len(t) <= 253 && domainRE.MatchString(t)
}

// azureDefaultSuffix ends every scope of the client-credentials grant: Entra refuses any other
// (AADSTS1002012), granting the application permissions of the resource before it.
const azureDefaultSuffix = "/.default"

// isAzureScope reports whether s is "<resource>/.default" with the resource a GUID (an
// application's client id) or an absolute URI with a host (an application ID URI such as
// https://management.azure.com or api://<guid>).
func isAzureScope(s string) bool {
	resource, ok := strings.CutSuffix(s, azureDefaultSuffix)
	return ok && (guidRE.MatchString(resource) || isScopeURL(resource, ""))
}

// isScopeURL reports whether s is an absolute URI with a host, using scheme when that is not
// empty, made only of printable ASCII URI characters and with no user, query or fragment: one
// scope of a space-separated list, so no space or control character may reach the request.
func isScopeURL(s, scheme string) bool {
	for i := range len(s) {
		if c := s[i]; !isASCIIAlnum(c) && strings.IndexByte(uriMarks, c) < 0 {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (scheme == "" || u.Scheme == scheme) && u.Host != "" &&
		u.Opaque == "" && u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" &&
		!strings.ContainsAny(s, "?#")
}
