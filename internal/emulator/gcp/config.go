package gcpemu

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// Provider is a workload identity pool provider of the OIDC kind.
type Provider struct {
	// Name is the provider's resource name:
	// projects/<number>/locations/global/workloadIdentityPools/<pool id>/providers/<provider id>,
	// each id 4 to 32 lowercase letters, digits and hyphens (see provider.ValidGCPProviderName).
	Name string
	// Issuer is the exact `iss` the provider trusts; its discovery document and JWKS are
	// fetched on every exchange (no cache).
	Issuer string
	// AllowedAudiences lists the accepted token `aud` values. Empty means Google's default:
	// "//iam.googleapis.com/"+Name and "https://iam.googleapis.com/"+Name.
	AllowedAudiences []string
	// AttributeMapping maps Google attributes (google.subject, google.display_name, and at
	// most 50 attribute.<name>; each key at most 100 characters) to expressions:
	// assertion.<claim>, or a concatenation with " + " of such claims and double-quoted string
	// literals. google.subject is required; nil means {"google.subject": "assertion.sub"}.
	AttributeMapping map[string]string
	// AttributeCondition, when set, must accept the token's verified claims (CEL's assertion)
	// and the mapped attributes or the exchange is refused. It stands in for Google's CEL
	// attribute condition.
	AttributeCondition func(assertion oidctrust.Claims, attrs map[string]string) bool
}

// ServiceAccount is a service account and the federated principals granted
// roles/iam.workloadIdentityUser on it.
type ServiceAccount struct {
	// Email is the account's email, as named in generateAccessToken's path.
	Email string
	// Members are principal identifiers of the forms
	// principal://iam.googleapis.com/<pool>/subject/<google.subject>,
	// principalSet://iam.googleapis.com/<pool>/attribute.<name>/<value> and
	// principalSet://iam.googleapis.com/<pool>/*, where <pool> is
	// projects/<number>/locations/global/workloadIdentityPools/<pool-id>.
	Members []string
}

// Config configures an Emulator.
type Config struct {
	Providers       []Provider
	ServiceAccounts []ServiceAccount
	// Verifier validates subject tokens; nil means a Verifier with Now as its clock.
	Verifier *oidctrust.Verifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Google's resource-name shapes and the host prefixes of full resource names.
const (
	iamHost       = "iam.googleapis.com"
	fullNameSlash = "//" + iamHost + "/"
	fullNameHTTPS = "https://" + iamHost + "/"
	// maxSubjectBytes is Google's limit on the mapped google.subject.
	maxSubjectBytes = 127
	// maxCustomAttributes is the most attribute.<name> keys an attribute mapping may have.
	maxCustomAttributes = 50
	// maxAttributeKeyLen is the longest mapped attribute key, in characters.
	maxAttributeKeyLen = 100
)

// attributeKey is a key an attribute mapping may set.
var attributeKey = regexp.MustCompile(`^(google\.subject|google\.display_name|attribute\.[a-z0-9_]+)$`)

// Validate reports every problem with c; New panics on an invalid Config.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range c.Providers {
		at := fmt.Sprintf("providers[%d]", i)
		if !provider.ValidGCPProviderName(p.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q is not %s", at, p.Name, provider.GCPProviderNameRule))
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate provider %q", at, p.Name))
		}
		seen[p.Name] = true
		if p.Issuer == "" {
			errs = append(errs, fmt.Errorf("%s: issuer is required", at))
		}
		mapping := p.mapping()
		if _, ok := mapping["google.subject"]; !ok {
			errs = append(errs, fmt.Errorf("%s: attribute mapping must map google.subject", at))
		}
		custom := 0
		for k, v := range mapping {
			if !attributeKey.MatchString(k) {
				errs = append(errs, fmt.Errorf("%s: attribute %q is not google.subject, google.display_name or attribute.<name>", at, k))
			}
			if strings.HasPrefix(k, "attribute.") {
				custom++
			}
			if n := utf8.RuneCountInString(k); n > maxAttributeKeyLen {
				errs = append(errs, fmt.Errorf("%s: attribute key %q is %d characters, more than %d", at, k, n, maxAttributeKeyLen))
			}
			if _, err := parseMapping(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: mapping %s: %w", at, k, err))
			}
		}
		if custom > maxCustomAttributes {
			errs = append(errs, fmt.Errorf("%s: attribute mapping has %d custom attributes, more than %d", at, custom, maxCustomAttributes))
		}
	}
	for i, sa := range c.ServiceAccounts {
		at := fmt.Sprintf("serviceAccounts[%d]", i)
		if !strings.Contains(sa.Email, "@") {
			errs = append(errs, fmt.Errorf("%s: email %q is not an email", at, sa.Email))
		}
		for _, m := range sa.Members {
			if !strings.HasPrefix(m, "principal://"+iamHost+"/") && !strings.HasPrefix(m, "principalSet://"+iamHost+"/") {
				errs = append(errs, fmt.Errorf("%s: member %q is not a principal:// or principalSet:// identifier", at, m))
			}
		}
	}
	return errors.Join(errs...)
}

func (p Provider) mapping() map[string]string {
	if p.AttributeMapping == nil {
		return map[string]string{"google.subject": "assertion.sub"}
	}
	return p.AttributeMapping
}

func (p Provider) audiences() []string {
	if len(p.AllowedAudiences) > 0 {
		return p.AllowedAudiences
	}
	return []string{fullNameSlash + p.Name, fullNameHTTPS + p.Name}
}

// mapAttributes applies the provider's mapping to verified claims (see evaluate).
func (p Provider) mapAttributes(claims oidctrust.Claims) (map[string]string, error) {
	attrs := map[string]string{}
	for k, expr := range p.mapping() {
		terms, err := parseMapping(expr)
		if err != nil {
			continue // Validate refuses this
		}
		v, ok, err := evaluate(terms, claims)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if ok {
			attrs[k] = v
		}
	}
	return attrs, nil
}

// principals returns the identifiers a federated identity matches in IAM bindings.
func principals(pool string, attrs map[string]string) []string {
	base := iamHost + "/" + pool
	out := []string{
		"principal://" + base + "/subject/" + attrs["google.subject"],
		"principalSet://" + base + "/*",
	}
	for k, v := range attrs {
		if strings.HasPrefix(k, "attribute.") {
			out = append(out, "principalSet://"+base+"/"+k+"/"+v)
		}
	}
	return out
}
