package emulator

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	azureemu "github.com/brokerhq/broker/internal/emulator/azure"
	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	vaultemu "github.com/brokerhq/broker/internal/emulator/vault"
	"github.com/brokerhq/broker/internal/exchange"
	azureexchange "github.com/brokerhq/broker/internal/exchange/azure"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/trust"
)

// Paths under which Set's handlers serve each emulator; broker integrations point their endpoint
// overrides at them.
const (
	AWSPath    = "/aws/sts"
	GCPSTSPath = "/gcp/sts"
	GCPIAMPath = "/gcp/iamcredentials"
	AzurePath  = "/azure"
)

// Set is the emulators of one broker configuration.
type Set struct {
	AWS   *awsemu.Emulator
	GCP   *gcpemu.Emulator
	Azure *azureemu.Emulator
	Vault *vaultemu.Emulator
	// Notes say what could not be emulated (assume-role, run-id subjects for Entra, Vault roles
	// one Vault role cannot express).
	Notes []string

	// The configurations the emulators were built from.
	awsConfig   awsemu.Config
	gcpConfig   gcpemu.Config
	azureConfig azureemu.Config
	vaultConfig vaultemu.Config
}

// attachment is one (stack, scope, integration) a cloud must trust.
type attachment struct {
	integration config.Integration
	stack       string
	scope       runs.Scope
	subjects    []string
}

// FromConfig derives each emulated cloud's trust from a broker configuration: every attachment
// is trusted exactly for the subjects broker mints for it (what `broker trust` prints), with the
// configuration's issuer. azureHost is the https origin (no path) the Entra emulator is served at.
func FromConfig(cfg *config.Config, azureHost string) (*Set, error) {
	set := &Set{}
	byProvider := map[string][]attachment{}
	index := exchange.NewAttachmentsOf(cfg)
	for _, at := range cfg.EffectiveAttachments() {
		in, ok := cfg.Integration(at.Integration)
		if !ok {
			continue
		}
		for _, scope := range scopesOf(at.Attachment) {
			_, err := index.ResolveScope(exchange.StackScope{Stack: at.Stack, Scope: scope}, in.Provider(), in.ID)
			if errors.Is(err, exchange.ErrNotAttachedForScope) {
				continue // another attachment of the stack takes this scope's place
			}
			if err != nil {
				return nil, err
			}
			subs, err := trust.Subjects(cfg, at.Stack, scope)
			if err != nil {
				return nil, err
			}
			byProvider[in.Provider()] = append(byProvider[in.Provider()], attachment{integration: in, stack: at.Stack, scope: scope, subjects: subs})
		}
	}
	set.awsConfig = awsemu.Config{Roles: set.awsRoles(cfg, byProvider[exchange.AWS])}
	set.gcpConfig = set.gcpTrust(cfg, byProvider[exchange.GCP])
	if err := set.gcpConfig.Validate(); err != nil {
		return nil, fmt.Errorf("gcp emulator: %w", err)
	}
	set.azureConfig = azureemu.Config{Host: strings.TrimSuffix(azureHost, "/"), Apps: set.azureApps(cfg, byProvider[exchange.Azure])}
	set.AWS, set.GCP, set.Azure = awsemu.New(set.awsConfig), gcpemu.New(set.gcpConfig), azureemu.New(set.azureConfig)
	set.vaultConfig = set.vaultTrust(cfg, byProvider[exchange.Vault])
	set.Vault = vaultemu.New(set.vaultConfig)
	return set, nil
}

func scopesOf(at config.Attachment) []runs.Scope {
	var out []runs.Scope
	if at.Read {
		out = append(out, runs.Read)
	}
	if at.Write {
		out = append(out, runs.Write)
	}
	return out
}

// awsRoles are the roles of the web-identity attachments, each trusting what `broker trust aws`
// prints for it. The emulator's trust has one audience per role, so a role whose policy needs a
// statement per audience is left out with a note rather than trusting every pairing of them.
func (s *Set) awsRoles(cfg *config.Config, ats []attachment) []awsemu.Role {
	var roles []awsemu.Role
	seen := map[string]bool{}
	for _, at := range ats {
		a := at.integration.AWS
		if a.Mode == config.AWSModeAssumeRole {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: assume-role is not emulated (it needs broker's own AWS credentials)", at.integration.ID))
			continue
		}
		if seen[a.RoleARN] {
			continue
		}
		seen[a.RoleARN] = true
		doc, leftOut, err := trust.RenderNotes(cfg, trust.Request{Provider: exchange.AWS, Stack: at.stack, Scope: at.scope, Integration: at.integration.ID})
		s.noteLeftOut("role "+a.RoleARN, leftOut)
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: role %s is not emulated: %v", at.integration.ID, a.RoleARN, err))
			continue
		}
		policy := doc.(trust.AWSPolicy)
		if len(policy.Statement) != 1 {
			s.Notes = append(s.Notes, fmt.Sprintf("role %s is not emulated: its trust policy needs %d statements (one per audience), and the emulator trusts one audience per role", a.RoleARN, len(policy.Statement)))
			continue
		}
		wi, ok := policy.Statement[0].WebIdentity(cfg.Issuer)
		if !ok {
			s.Notes = append(s.Notes, fmt.Sprintf("role %s is not emulated: its trust policy is not one for broker's web identities", a.RoleARN))
			continue
		}
		roles = append(roles, awsemu.Role{ARN: a.RoleARN, Trust: awsemu.Trust{Issuer: cfg.Issuer, Audiences: []string{wi.Audience}, Subjects: wi.Subjects,
			TagSession: slices.Contains(policy.Statement[0].Action, "sts:TagSession")}})
	}
	return roles
}

// gcpTrust configures each workload identity provider the attachments name, and binds each
// attachment on its service account, as `broker trust gcp` prints them: the provider's
// audiences, attribute mapping and condition (tokens of stacks in the spaces of the
// attachments exchanging through it), and the attachment's principal set. An attachment whose
// trust cannot be printed is left out with a note.
func (s *Set) gcpTrust(cfg *config.Config, ats []attachment) gcpemu.Config {
	var out gcpemu.Config
	providers := map[string]bool{}
	accounts := map[string]int{}
	for _, at := range ats {
		g := at.integration.GCP
		doc, leftOut, err := trust.RenderNotes(cfg, trust.Request{Provider: exchange.GCP, Stack: at.stack, Scope: at.scope, Integration: at.integration.ID})
		if !providers[g.WorkloadIdentityProvider] {
			s.noteLeftOut("provider "+g.WorkloadIdentityProvider, leftOut)
		}
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: stack %s at %s is not emulated: %v", at.integration.ID, at.stack, at.scope, err))
			continue
		}
		printed := doc.(trust.GCPTrust)
		if !providers[g.WorkloadIdentityProvider] {
			providers[g.WorkloadIdentityProvider] = true
			out.Providers = append(out.Providers, emulatedProvider(cfg, printed.Provider))
		}
		i, ok := accounts[printed.Binding.ServiceAccount]
		if !ok {
			i = len(out.ServiceAccounts)
			accounts[printed.Binding.ServiceAccount] = i
			out.ServiceAccounts = append(out.ServiceAccounts, gcpemu.ServiceAccount{Email: printed.Binding.ServiceAccount})
		}
		out.ServiceAccounts[i].Members = appendNew(out.ServiceAccounts[i].Members, printed.Binding.Member)
	}
	return out
}

// emulatedProvider is the provider printed, its CEL condition read as `broker trust gcp`
// writes it: tokens of stacks in printed.Spaces.
func emulatedProvider(cfg *config.Config, printed trust.GCPProvider) gcpemu.Provider {
	spaces := slices.Clone(printed.Spaces)
	return gcpemu.Provider{
		Name: printed.Name, Issuer: cfg.Issuer, AllowedAudiences: slices.Clone(printed.AllowedAudiences),
		AttributeMapping: maps.Clone(printed.AttributeMapping),
		AttributeCondition: func(assertion oidctrust.Claims, _ map[string]string) bool {
			return assertion.String("callerType") == "stack" && slices.Contains(spaces, assertion.String("spaceId"))
		},
	}
}

func (s *Set) azureApps(cfg *config.Config, ats []attachment) []azureemu.App {
	var apps []azureemu.App
	index := map[string]int{}
	for _, at := range ats {
		a := at.integration.Azure
		// The emulated tenants hold DefaultResources only: a scope naming another resource is
		// refused as Entra refuses a resource with no service principal in the tenant.
		scope := a.Scope
		if scope == "" {
			scope = azureexchange.DefaultScope
		}
		if !(azureemu.Config{}).HasResource(scope) {
			s.Notes = appendNew(s.Notes, fmt.Sprintf("integration %s: scope %s names a resource the emulated tenant does not hold (it holds %s); its tokens are refused with AADSTS500011",
				at.integration.ID, scope, strings.Join(azureemu.DefaultResources, ", ")))
		}
		// Entra reads tenant and client ids in any case: one application, however written.
		key := strings.ToLower(a.TenantID + "/" + a.ClientID)
		i, ok := index[key]
		if !ok {
			i = len(apps)
			index[key] = i
			apps = append(apps, azureemu.App{TenantID: a.TenantID, ClientID: a.ClientID})
		}
		for _, sub := range at.subjects {
			if strings.Contains(sub, "*") {
				s.Notes = append(s.Notes, fmt.Sprintf("integration %s: Entra needs exact subjects; a template with {runId} cannot be trusted", at.integration.ID))
				continue
			}
			fic := azureemu.FederatedCredential{
				Issuer: cfg.Issuer, Subject: sub, Audiences: []string{at.integration.TokenAudience()},
			}
			// A stack attached both directly and by a label needs each credential once.
			if !slices.ContainsFunc(apps[i].Federated, func(f azureemu.FederatedCredential) bool {
				return f.Subject == fic.Subject && slices.Equal(f.Audiences, fic.Audiences)
			}) {
				apps[i].Federated = append(apps[i].Federated, fic)
			}
		}
	}
	// An application is its client id, whichever way its tenant is named (a GUID or a domain),
	// as `broker trust azure` counts it: its credentials add up over the tenant's spellings.
	perClient := map[string]map[string]bool{}
	for _, app := range apps {
		client := strings.ToLower(app.ClientID)
		if perClient[client] == nil {
			perClient[client] = map[string]bool{}
		}
		for _, f := range app.Federated {
			perClient[client][f.Subject+"\x00"+strings.Join(f.Audiences, "\x00")] = true
		}
	}
	// Entra holds at most trust.AzureMaxCredentials per application, and refuses the next: an
	// application that would need more is not emulated at all, as `broker trust azure` prints
	// none of its credentials.
	return slices.DeleteFunc(apps, func(app azureemu.App) bool {
		n := len(perClient[strings.ToLower(app.ClientID)])
		if n <= trust.AzureMaxCredentials {
			return false
		}
		s.Notes = appendNew(s.Notes, fmt.Sprintf("Entra application %s is not emulated: its attachments need %d federated credentials, and Entra holds %d",
			app.ClientID, n, trust.AzureMaxCredentials))
		return true
	})
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// HTTPHandler serves AWS STS at AWSPath, Google STS at GCPSTSPath and IAM Credentials at
// GCPIAMPath (each alone, as Google's two hosts do), and Vault at VaultPath.
func (s *Set) HTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mount(mux, AWSPath, s.AWS)
	mount(mux, GCPSTSPath, s.GCP.Only(gcpemu.EndpointSTS))
	mount(mux, GCPIAMPath, s.GCP.Only(gcpemu.EndpointIAM))
	mount(mux, VaultPath, s.Vault)
	return mux
}

// TLSHandler serves Entra ID at the root, so that the origin is an authority host Microsoft's
// client can use (MSAL reads the first path segment as the tenant and replaces it), and also
// under AzurePath for broker integrations whose authority_host names that path. Microsoft's
// client insists on https.
func (s *Set) TLSHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", s.Azure)
	mux.Handle(AzurePath+"/", s.Azure.Under(AzurePath))
	return mux
}

// mount serves h under prefix, with the prefix stripped (an empty rest becomes "/").
func mount(mux *http.ServeMux, prefix string, h http.Handler) {
	strip := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r2.URL.RawPath = ""
		if r2.URL.Path == "" {
			r2.URL.Path = "/"
		}
		h.ServeHTTP(w, r2)
	})
	mux.Handle(prefix, strip)
	mux.Handle(prefix+"/", strip)
}

// noteLeftOut notes each attachment left out of the trust of the cloud-side object what (an
// AWS role, a GCP provider, a Vault role), as `broker trust` does on stderr: the emulator trusts
// what broker trust prints, so such an attachment is not emulated.
func (s *Set) noteLeftOut(what string, leftOut []string) {
	for _, l := range leftOut {
		if n := what + " is not emulated for " + l; !slices.Contains(s.Notes, n) {
			s.Notes = append(s.Notes, n)
		}
	}
}
