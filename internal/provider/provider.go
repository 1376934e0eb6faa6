package provider

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Provider names, as in POST /v1/credentials and an integration's configuration block.
const (
	AWS   = "aws"
	GCP   = "gcp"
	Azure = "azure"
	Vault = "vault"
)

// Default token audiences of the providers whose default is fixed. GCP's default is the full
// resource name of the integration's workload identity provider (GCPAudience).
const (
	AWSAudience   = "sts.amazonaws.com"
	AzureAudience = "api://AzureADTokenExchange"
	VaultAudience = "vault"
)

// AWSMaxClientIDLength is the longest client ID an IAM OIDC provider holds, in characters: a
// web identity token whose audience is longer matches no provider's client ID list.
const AWSMaxClientIDLength = 255

// AzureNationalAudiences are the default token audiences of Entra ID in Azure's national
// clouds (US Government, China, and the two US secret clouds), where AzureAudience is the
// public cloud's.
var AzureNationalAudiences = []string{
	"api://AzureADTokenExchangeUSGov",
	"api://AzureADTokenExchangeChina",
	"api://AzureADTokenExchangeUSNat",
	"api://AzureADTokenExchangeUSSec",
}

// azureEnvironments maps the host of a national cloud's Entra ID authority to the name of that
// cloud in azurerm's ARM_ENVIRONMENT; the public cloud is azurerm's default.
var azureEnvironments = map[string]string{
	"login.microsoftonline.us":         "usgovernment",
	"login.chinacloudapi.cn":           "china",
	"login.partner.microsoftonline.cn": "china",
}

// AzureEnvironment returns azurerm's ARM_ENVIRONMENT for an integration whose authority_host is
// authority: a national cloud's name, "" for any other host (the public cloud's).
func AzureEnvironment(authority string) string {
	u, err := url.Parse(authority)
	if err != nil {
		return ""
	}
	return azureEnvironments[strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")]
}

// AWSRegion is the region of AWS STS's global endpoint, sts.amazonaws.com, and so the region an
// AWS integration of the commercial partition that names none signs its calls for.
const AWSRegion = "us-east-1"

// awsPartitionRegions maps an AWS partition (an ARN's second field) to the region an
// integration of that partition that names none signs its calls for: the region of the
// partition's STS endpoint that needs no region in its name. A role in another partition
// must name its region.
var awsPartitionRegions = map[string]string{"aws": AWSRegion, "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

// awsRegion is an AWS region code as the SDK's partitions define it: a partition prefix of two
// to four letters, words, and a number (us-east-1, us-gov-west-1, cn-north-1, us-isob-east-1,
// eusc-de-east-1).
const awsRegion = `[a-z]{2,4}(?:-[a-z]+)+-[0-9]+`

// AWSRegionRE matches an AWS region code (see awsRegion).
var AWSRegionRE = regexp.MustCompile(`^` + awsRegion + `$`)

// awsSTSHostRE is a regional STS endpoint's host, lower case and without a trailing dot:
// sts.<region>.amazonaws.com (.com.cn in China), sts-fips.<region>.amazonaws.com, the
// dual-stack sts.<region>.api.aws, and an interface VPC endpoint's
// <endpoint id>.sts.<region>.vpce.amazonaws.com. The region is its one group.
var awsSTSHostRE = regexp.MustCompile(`^(?:sts|sts-fips|[a-z0-9-]+\.sts)\.(` + awsRegion + `)\.(?:amazonaws\.com(?:\.cn)?|api\.aws|vpce\.amazonaws\.com(?:\.cn)?)$`)

// AWSDefaultRegion is the region an AWS integration that names none signs its STS calls for:
// the region in its STS endpoint's host when that is a regional AWS endpoint, otherwise that
// of its role's partition (roleARN's second field); "" when neither tells (a partition without
// an STS endpoint free of a region, or a malformed ARN). A region that is not the endpoint's
// is refused by STS (SignatureDoesNotMatch).
func AWSDefaultRegion(roleARN, stsEndpoint string) string {
	if u, err := url.Parse(stsEndpoint); err == nil && stsEndpoint != "" {
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if m := awsSTSHostRE.FindStringSubmatch(host); m != nil {
			return m[1]
		}
	}
	parts := strings.SplitN(roleARN, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" {
		return ""
	}
	return awsPartitionRegions[parts[1]]
}

// AzureAlgorithm is the only token signing algorithm Entra ID accepts in a federated client
// assertion (it refuses others with AADSTS700027).
const AzureAlgorithm = "RS256"

// MinValidity is how long credentials must still be valid when a provider hands them over:
// less is not worth handing to a worker, which could not even start a call with them. An
// integration's duration may not ask for less.
const MinValidity = 30 * time.Second

// Lifetimes the upstreams grant credentials for, where broker asks for one.
const (
	// AWSMinSession and AWSMaxSession bound the DurationSeconds STS grants.
	AWSMinSession = 15 * time.Minute
	AWSMaxSession = 12 * time.Hour
	// AWSDefaultSession is STS's session lifetime when a call names none.
	AWSDefaultSession = time.Hour
	// AzureMinToken is the shortest access-token lifetime Entra ID grants (a token lifetime
	// policy sets from 10 minutes to a day; the default is 60 to 90 minutes).
	AzureMinToken = 10 * time.Minute
	// AzureMaxAssertion is the longest a federated assertion may live from its iat to its exp
	// for Entra ID to take it (AADSTS70023): one day and one hour.
	AzureMaxAssertion = 25 * time.Hour
	// GCPMaxSubjectToken bounds a subject token's exp after its iat for Google STS to take
	// it: exp must be less than 48 hours after iat.
	GCPMaxSubjectToken = 48 * time.Hour
	// LifetimeSlack is how much later than the lifetime asked for (an integration's duration)
	// broker lets credentials expire: the upstream's clock may be ahead of broker's, as far as
	// the clouds themselves tolerate.
	LifetimeSlack = 5 * time.Minute
	// GCPDefaultLifetime is generateAccessToken's lifetime when a call names none.
	GCPDefaultLifetime = time.Hour
	// MinLifetime is the shortest lifetime broker asks of an upstream that takes one (Google,
	// Vault through the role `broker trust vault` prints), and the least `duration` it accepts
	// for them: one that still leaves MinValidity when the credentials arrive.
	MinLifetime = 2 * MinValidity
)

// The words of each upstream's refusal when it could not fetch broker's discovery document or
// JWKS: an outage of broker's public endpoint, not a refusal of the caller. The exchangers
// match them to call the failure an outage and the emulators answer with them.
const (
	// AWSIssuerUnreachable begins the message of STS's InvalidIdentityToken.
	AWSIssuerUnreachable = "Couldn't retrieve verification key from your identity provider"
	// GCPIssuerUnreachable begins the description of Google STS's invalid_grant.
	GCPIssuerUnreachable = "Error connecting to the given credential's issuer"
	// AzureIssuerUnreachable is Entra ID's error code, answered as "AADSTS50166".
	AzureIssuerUnreachable = 50166
	// VaultIssuerUnreachable is in the error of Vault's JWT auth method, after "error
	// verifying token signature: ".
	VaultIssuerUnreachable = "fetching keys"
)

// Environment variables a run receives from an exchange (contract section 3).
const (
	EnvAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvAWSSessionToken    = "AWS_SESSION_TOKEN"
	EnvAWSRegion          = "AWS_REGION"
	EnvAWSDefaultRegion   = "AWS_DEFAULT_REGION"

	EnvGCPAccessToken = "GOOGLE_OAUTH_ACCESS_TOKEN"

	EnvAzureTenantID       = "ARM_TENANT_ID"
	EnvAzureClientID       = "ARM_CLIENT_ID"
	EnvAzureUseOIDC        = "ARM_USE_OIDC"
	EnvAzureOIDCToken      = "ARM_OIDC_TOKEN"
	EnvAzureSubscriptionID = "ARM_SUBSCRIPTION_ID"
	EnvAzureEnvironment    = "ARM_ENVIRONMENT"

	EnvVaultAddr      = "VAULT_ADDR"
	EnvVaultToken     = "VAULT_TOKEN"
	EnvVaultNamespace = "VAULT_NAMESPACE"
)

// Facts are what broker knows of one provider.
type Facts struct {
	// Name is the provider's name.
	Name string
	// Audience is the default `aud` of the tokens its exchange sends; empty when it depends on
	// the integration (GCP: GCPAudience of the workload identity provider).
	Audience string
	// Algorithm is the one signing algorithm the provider accepts for tokens of Audience and of
	// AlsoAudiences; empty means any.
	Algorithm string
	// AlsoAudiences are the provider's other well-known audiences (those of its national
	// clouds), which Algorithm restricts as it does Audience.
	AlsoAudiences []string
	// Env are the environment variables a run always receives from an exchange.
	Env []string
	// OptionalEnv are the environment variables set only when the integration configures them.
	OptionalEnv []string
	// Secrets are the environment variables whose values are secrets (credentials, tokens).
	Secrets []string
}

// MaySet reports whether name is one of the environment variables an exchange of f sets,
// always (Env) or when configured (OptionalEnv): the only names a run receives from it.
func (f Facts) MaySet(name string) bool {
	return slices.Contains(f.Env, name) || slices.Contains(f.OptionalEnv, name)
}

// table holds every provider, in the order names are listed to users.
var table = [...]Facts{
	{Name: AWS, Audience: AWSAudience,
		Env:         []string{EnvAWSAccessKeyID, EnvAWSSecretAccessKey, EnvAWSSessionToken},
		OptionalEnv: []string{EnvAWSRegion, EnvAWSDefaultRegion},
		Secrets:     []string{EnvAWSSecretAccessKey, EnvAWSSessionToken}},
	{Name: GCP,
		Env:     []string{EnvGCPAccessToken},
		Secrets: []string{EnvGCPAccessToken}},
	{Name: Azure, Audience: AzureAudience, Algorithm: AzureAlgorithm, AlsoAudiences: AzureNationalAudiences,
		Env:         []string{EnvAzureTenantID, EnvAzureClientID, EnvAzureUseOIDC, EnvAzureOIDCToken},
		OptionalEnv: []string{EnvAzureSubscriptionID, EnvAzureEnvironment},
		Secrets:     []string{EnvAzureOIDCToken}},
	{Name: Vault, Audience: VaultAudience,
		Env:         []string{EnvVaultAddr, EnvVaultToken},
		OptionalEnv: []string{EnvVaultNamespace},
		Secrets:     []string{EnvVaultToken}},
}

// All returns the facts of every provider, in the order names are listed to users.
func All() []Facts { return table[:] }

// Names returns every provider name: aws, gcp, azure, vault.
func Names() []string {
	out := make([]string, len(table))
	for i, f := range table {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the facts of the provider called name.
func Lookup(name string) (Facts, bool) {
	for _, f := range table {
		if f.Name == name {
			return f, true
		}
	}
	return Facts{}, false
}

// Known reports whether name is a provider's name.
func Known(name string) bool {
	_, ok := Lookup(name)
	return ok
}

// NameList is the provider names for messages: "aws, gcp, azure or vault".
func NameList() string {
	names := Names()
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// gcpProviderName is a workload identity provider's resource name as Google takes it: the
// project named by its number (an audience naming it by its id is refused), and a pool's and a
// provider's id 4 to 32 lowercase letters, digits and hyphens.
var gcpProviderName = regexp.MustCompile(`^projects/[0-9]+/locations/global/workloadIdentityPools/([a-z0-9-]{4,32})/providers/([a-z0-9-]{4,32})$`)

// GCPReservedIDPrefix starts the ids Google keeps for itself: no pool or provider id may.
const GCPReservedIDPrefix = "gcp-"

// GCPProviderNameRule says in words what ValidGCPProviderName takes, for refusals.
const GCPProviderNameRule = "projects/<number>/locations/global/workloadIdentityPools/<pool id>/providers/<provider id>, " +
	"ids of 4 to 32 lowercase letters, digits and hyphens, not starting with \"" + GCPReservedIDPrefix + "\""

// ValidGCPProviderName reports whether name is a workload identity provider's resource name
// Google takes (GCPProviderNameRule).
func ValidGCPProviderName(name string) bool {
	m := gcpProviderName.FindStringSubmatch(name)
	return m != nil && !strings.HasPrefix(m[1], GCPReservedIDPrefix) && !strings.HasPrefix(m[2], GCPReservedIDPrefix)
}

// Audience is the audience of the tokens an integration of provider name sends: configured
// when the integration sets one, else the provider's default; for GCP the default is
// GCPAudience(workloadIdentityProvider). An unknown provider has no default.
func Audience(name, configured, workloadIdentityProvider string) string {
	if configured != "" {
		return configured
	}
	if name == GCP {
		return GCPAudience(workloadIdentityProvider)
	}
	f, _ := Lookup(name)
	return f.Audience
}

// gcpResourcePrefix starts the full resource name of an IAM object.
const gcpResourcePrefix = "//iam.googleapis.com/"

// GCPAudience returns the full resource name of a workload identity provider,
// "//iam.googleapis.com/projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<id>",
// from its resource name with or without that prefix. It is the STS audience and the default
// token audience of a GCP integration.
func GCPAudience(workloadIdentityProvider string) string {
	name := strings.TrimPrefix(strings.TrimPrefix(workloadIdentityProvider, gcpResourcePrefix), "https://iam.googleapis.com/")
	return gcpResourcePrefix + strings.TrimPrefix(name, "/")
}

// GCPPool splits the resource name of a workload identity provider,
// "projects/<n>/locations/global/workloadIdentityPools/<pool>/providers/<id>", into the pool's
// resource name and the provider's id. The split is at the last "/providers/", as a pool may
// itself be named "providers"; ok is false when there is none.
func GCPPool(workloadIdentityProvider string) (pool, providerID string, ok bool) {
	const sep = "/providers/"
	cut := strings.LastIndex(workloadIdentityProvider, sep)
	if cut < 0 {
		return "", "", false
	}
	return workloadIdentityProvider[:cut], workloadIdentityProvider[cut+len(sep):], true
}

// AlgorithmFor returns the one signing algorithm the relying party of a token for audience
// accepts; empty means any. Only a provider's default audiences (Audience and AlsoAudiences),
// matched exactly, are known to restrict it.
func AlgorithmFor(audience string) string {
	for _, f := range table {
		if f.Algorithm != "" && (f.Audience == audience || slices.Contains(f.AlsoAudiences, audience)) {
			return f.Algorithm
		}
	}
	return ""
}

// RequiredAlgorithms returns every algorithm some provider accepts exclusively: broker keeps a
// signing key of each besides the configured one.
func RequiredAlgorithms() []string {
	var out []string
	for _, f := range table {
		if f.Algorithm != "" {
			out = append(out, f.Algorithm)
		}
	}
	return out
}
