package trust

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/aws"
	"github.com/brokerhq/broker/internal/provider"
)

// Render returns the trust document for req, ready to marshal as JSON.
// For AWS, GCP and Vault the document is the one cloud-side object (role, workload identity
// provider, Vault role) that every attachment using it needs, whichever of them req names:
// pasting it for one stack then never locks another out.
func Render(cfg *config.Config, req Request) (any, error) {
	doc, _, err := RenderNotes(cfg, req)
	return doc, err
}

// RenderNotes is Render, with a note for each attachment that reaches the cloud through the
// same object (role, provider) but is left out of the document: its stack could not attach the
// printed integration itself, so an administrator of its space alone cannot write itself into
// this trust. Pasting the document leaves such attachments out of the object's trust.
func RenderNotes(cfg *config.Config, req Request) (doc any, leftOut []string, err error) {
	r, err := newResolver(cfg)
	if err != nil {
		return nil, nil, err
	}
	t, err := r.resolve(req)
	if err != nil {
		return nil, nil, err
	}
	if doc, err = r.render(t); err != nil {
		return nil, nil, err
	}
	return doc, r.leftOutNotes(), nil
}

// render returns the trust document for t, noting in r what it leaves out.
func (r *resolver) render(t *target) (any, error) {
	switch t.req.Provider {
	case exchange.AWS:
		return r.awsPolicy(t)
	case exchange.GCP:
		return r.gcp(t)
	case exchange.Azure:
		return r.azure(t)
	case exchange.Vault:
		return r.vaultRole(t)
	}
	return nil, fmt.Errorf("unknown provider %q", t.req.Provider)
}

// AWSPolicy is an IAM role trust policy, as `broker trust aws` prints it.
type AWSPolicy struct {
	Version   string         `json:"Version"`
	Statement []AWSStatement `json:"Statement"`
}

// AWSStatement is one statement of an AWSPolicy; the policy admits a caller that any of its
// statements admits.
type AWSStatement struct {
	Effect    string                    `json:"Effect"`
	Principal map[string]string         `json:"Principal"`
	Action    []string                  `json:"Action"`
	Condition map[string]map[string]any `json:"Condition"`
}

// AWSWebIdentity is what one web-identity statement admits: a token of the statement's issuer
// whose aud is Audience and whose sub is one of Subjects, where a "*" matches any run id.
type AWSWebIdentity struct {
	Audience string
	Subjects []string
}

// WebIdentity returns what st admits when it is a statement for web identities of issuer.
func (st AWSStatement) WebIdentity(issuer string) (AWSWebIdentity, bool) {
	hp := issuerHostPath(issuer)
	if !slices.Contains(st.Action, "sts:AssumeRoleWithWebIdentity") || !strings.HasSuffix(st.Principal["Federated"], ":oidc-provider/"+hp) {
		return AWSWebIdentity{}, false
	}
	aud, _ := st.Condition["StringEquals"][hp+":aud"].(string)
	subs, _ := st.Condition["StringEquals"][hp+":sub"].([]string)
	if like, ok := st.Condition["StringLike"][hp+":sub"].([]string); ok {
		subs = like
	}
	return AWSWebIdentity{Audience: aud, Subjects: subs}, aud != "" && len(subs) > 0
}

// ErrNeedsPrincipal: an assume-role trust policy names broker's own AWS principal.
var ErrNeedsPrincipal = errors.New("an assume-role integration's trust policy needs the broker's own AWS principal (--aws-principal ARN)")

// awsPrincipalRE matches the IAM principals broker itself can run as: a role or a user
// (arn:aws:iam::<account>:role/<name>, user/<name>) or a role session
// (arn:aws:sts::<account>:assumed-role/<role>/<session>), in any partition. A wildcard, an
// account or anything else is no caller of its own.
var awsPrincipalRE = regexp.MustCompile(
	`^arn:aws(-[a-z]+)*:(iam::[0-9]{12}:(role|user)|sts::[0-9]{12}:assumed-role)/[A-Za-z0-9+=,.@_/-]+$`)

// ValidAWSPrincipal reports whether arn names one IAM role, user or role session, the only
// principals an assume-role trust policy may admit as broker's own: a wildcard or a whole
// account would let any caller that knows the ExternalId (which is no secret) assume the role.
func ValidAWSPrincipal(arn string) bool { return awsPrincipalRE.MatchString(arn) }

// ErrIssuerPort refuses AWS web identity trust for an issuer whose URL names a port on a host
// other than loopback: an IAM OIDC provider's URL holds no port, so no provider can match the
// tokens' iss and no role can trust them.
var ErrIssuerPort = errors.New("an IAM OIDC provider's URL holds no port: serve the issuer on https's default port to use AWS web identity")

// awsStatement is the statement that lets t's runs assume t's role, and no other stack's or
// scope's: it names the stack and scope by their subjects or, for assume-role, their ExternalId.
func (t *target) awsStatement() (AWSStatement, error) {
	a := t.integration.AWS
	if a.Mode == config.AWSModeAssumeRole {
		if t.req.AWSPrincipal == "" {
			return AWSStatement{}, ErrNeedsPrincipal
		}
		externalID := aws.ExternalID(config.IssuerHost(t.cfg.Issuer), t.integration.ID,
			exchange.StackScope{Stack: t.stack.ID, Scope: t.req.Scope})
		actions := []string{"sts:AssumeRole"}
		if a.SessionTags {
			actions = append(actions, "sts:TagSession")
		}
		return AWSStatement{
			Effect: "Allow", Principal: map[string]string{"AWS": t.req.AWSPrincipal}, Action: actions,
			Condition: map[string]map[string]any{"StringEquals": {
				awsExternalIDKey: []string{externalID},
			}},
		}, nil
	}
	account := strings.Split(a.RoleARN, ":")
	if len(account) < 5 {
		return AWSStatement{}, fmt.Errorf("role_arn %q has no account", a.RoleARN)
	}
	if u, err := url.Parse(t.cfg.Issuer); err == nil && u.Port() != "" && !config.IsLoopbackHost(u.Hostname()) {
		return AWSStatement{}, fmt.Errorf("%w: %s", ErrIssuerPort, t.cfg.Issuer)
	}
	hp := t.issuerHostPath()
	op := "StringEquals"
	if t.wildcard() {
		op = "StringLike"
	}
	cond := map[string]map[string]any{"StringEquals": {hp + ":aud": t.integration.TokenAudience()}}
	if cond[op] == nil {
		cond[op] = map[string]any{}
	}
	cond[op][hp+":sub"] = t.subjects
	actions := []string{"sts:AssumeRoleWithWebIdentity"}
	if a.SessionTags {
		actions = append(actions, "sts:TagSession")
	}
	return AWSStatement{
		Effect: "Allow",
		// The OIDC provider lives in the role's partition (aws, aws-us-gov, aws-cn).
		Principal: map[string]string{"Federated": fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", account[1], account[4], hp)},
		Action:    actions,
		Condition: cond,
	}, nil
}

// GCPTrust is what `broker trust gcp` prints: the workload identity pool provider and the
// service-account binding of one stack and scope.
type GCPTrust struct {
	Provider GCPProvider `json:"workloadIdentityPoolProvider"`
	Binding  GCPBinding  `json:"serviceAccountIamBinding"`
}

// GCPProvider is a workload identity pool provider as every attachment exchanging through it
// needs it.
type GCPProvider struct {
	Name               string            `json:"name"`
	IssuerURI          string            `json:"issuerUri"`
	AllowedAudiences   []string          `json:"allowedAudiences,omitempty"`
	AttributeMapping   map[string]string `json:"attributeMapping"`
	AttributeCondition string            `json:"attributeCondition"`
	// Spaces are the spaces whose stacks' tokens AttributeCondition admits (it also requires
	// callerType "stack"), for programs that cannot read the condition's CEL.
	Spaces []string `json:"-"`
}

// gcpMaxSubject is Google's limit on a mapped google.subject, in bytes.
const gcpMaxSubject = 127

// Google's limits on a workload identity pool provider: how many allowed audiences it takes,
// and how long its attribute condition may be, in characters.
const (
	gcpMaxAudiences = 10
	gcpMaxCondition = 4096
)

// ErrProviderTooLarge: the attachments sharing a Google workload identity pool provider need
// more allowed audiences, or a longer attribute condition, than Google takes.
var ErrProviderTooLarge = errors.New("a Google workload identity pool provider takes at most 10 allowed audiences and an attribute condition of at most 4,096 characters; give some of the integrations sharing this provider a provider of their own, or fewer audiences")

// azureMaxSubject is Entra's limit on a federated credential's subject, in characters.
const azureMaxSubject = 600

// mintedLen is the length of a sub rendered for trust (each run id a "*") once minted, each run
// id a 26-character ULID.
func mintedLen(sub string) int { return len(sub) + (runIDLen-1)*strings.Count(sub, "*") }

// runIDLen is the length of a run id (a ULID).
const runIDLen = 26

// gcpBindingAttribute is the attribute a service account's binding names, and gcpBindingValue
// its mapping: the provider's id, the space, the stack and the scope, so that a stack id given
// again in another space sharing the provider never matches a binding left for the first, nor
// a token of another broker whose provider shares the pool (principal sets are pool-wide).
const (
	gcpBindingAttribute = "attribute.space_stack_scope"
	gcpBindingValue     = `%q + "/" + assertion.spaceId + "/" + assertion.callerId + "@" + assertion.scope`
)

// GCPBinding grants a stack at a scope roles/iam.workloadIdentityUser on a service account.
type GCPBinding struct {
	ServiceAccount string `json:"serviceAccount"`
	Role           string `json:"role"`
	Member         string `json:"member"`
}

func (t *target) gcp(shared gcpShared) (any, error) {
	g := t.integration.GCP
	pool, providerID, ok := provider.GCPPool(g.WorkloadIdentityProvider)
	if !ok {
		return nil, fmt.Errorf("workload_identity_provider %q is not a provider resource name", g.WorkloadIdentityProvider)
	}
	condition := fmt.Sprintf(`assertion.callerType == "stack" && assertion.spaceId == %q`, shared.spaces[0])
	if len(shared.spaces) > 1 {
		quoted := make([]string, len(shared.spaces))
		for i, s := range shared.spaces {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		condition = fmt.Sprintf(`assertion.callerType == "stack" && assertion.spaceId in [%s]`, strings.Join(quoted, ", "))
	}
	if n := len(shared.audiences); n > gcpMaxAudiences {
		return nil, fmt.Errorf("%w: provider %s would allow %d audiences", ErrProviderTooLarge, g.WorkloadIdentityProvider, n)
	}
	if n := utf8.RuneCountInString(condition); n > gcpMaxCondition {
		return nil, fmt.Errorf("%w: provider %s's condition would be %d characters, for %d spaces", ErrProviderTooLarge, g.WorkloadIdentityProvider, n, len(shared.spaces))
	}
	return GCPTrust{
		Provider: GCPProvider{
			Name: g.WorkloadIdentityProvider, IssuerURI: t.cfg.Issuer, AllowedAudiences: shared.audiences,
			AttributeMapping: map[string]string{
				"google.subject":    shared.subject,
				"attribute.space":   "assertion.spaceId",
				"attribute.stack":   "assertion.callerId",
				"attribute.scope":   "assertion.scope",
				gcpBindingAttribute: fmt.Sprintf(gcpBindingValue, providerID),
			},
			AttributeCondition: condition,
			Spaces:             shared.spaces,
		},
		Binding: GCPBinding{
			ServiceAccount: g.ServiceAccount,
			Role:           "roles/iam.workloadIdentityUser",
			Member: fmt.Sprintf("principalSet://iam.googleapis.com/%s/%s/%s/%s/%s@%s",
				pool, gcpBindingAttribute, providerID, t.stack.Space, t.stack.ID, t.req.Scope),
		},
	}, nil
}

type azureCredential struct {
	Name        string   `json:"name"`
	Issuer      string   `json:"issuer"`
	Subject     string   `json:"subject"`
	Audiences   []string `json:"audiences"`
	Description string   `json:"description"`
}

// AzureMaxCredentials is how many federated identity credentials Entra holds per application.
const AzureMaxCredentials = 20

// ErrTooManyCredentials: the attachments exchanging through one Entra application need more
// federated identity credentials than Entra holds for it.
var ErrTooManyCredentials = errors.New("Entra holds at most 20 federated identity credentials per application; give some of these stacks or scopes an application (client_id) of their own")

// azure is t's federated credentials, once the attachments exchanging through t's application
// (its tenant and client id) are found to fit in it together: Entra refuses a credential past
// AzureMaxCredentials, which would lock the stack that needs it out.
func (r *resolver) azure(t *target) (any, error) {
	app := GrantedIdentity(t.integration)
	all, err := r.sharing(t, func(in config.Integration) bool { return GrantedIdentity(in) == app })
	if err != nil {
		return nil, err
	}
	// Entra holds each federated credential as an object of its own: installing t's replaces
	// none of another stack's, so nothing is left out of what is printed.
	r.leftOut = nil
	subjects := map[string]bool{}
	var users []string
	for _, o := range all {
		for _, sub := range o.subjects {
			subjects[sub] = true
		}
		users = append(users, fmt.Sprintf("%s (%s)", o.stack.ID, o.req.Scope))
	}
	if len(subjects) > AzureMaxCredentials {
		return nil, fmt.Errorf("%w: application %s would need %d, for %s", ErrTooManyCredentials, t.integration.Azure.ClientID, len(subjects), strings.Join(users, ", "))
	}
	return t.azure()
}

// ErrSubjectTooLong: Entra refuses a federated credential whose subject is over 600 characters;
// shorten the space's subject_template or the ids it names.
var ErrSubjectTooLong = errors.New("Entra refuses federated credential subjects over 600 characters; shorten the space's subject_template (or the space path and ids it names)")

// ErrExactSubject: Entra matches subjects exactly, so a template holding {runId} cannot be trusted.
var ErrExactSubject = errors.New("Entra federated credentials match the subject exactly, and this space's subject_template contains {runId}; use a template without it")

func (t *target) azure() (any, error) {
	if t.wildcard() {
		return nil, ErrExactSubject
	}
	out := make([]azureCredential, 0, len(t.subjects))
	for i, sub := range t.subjects {
		if n := utf8.RuneCountInString(sub); n > azureMaxSubject {
			return nil, fmt.Errorf("%w: a subject of stack %s in space %s is %d characters (%s)",
				ErrSubjectTooLong, t.stack.ID, t.stack.Space, n, sub)
		}
		name := fmt.Sprintf("broker-%s-%s", t.stack.ID, t.req.Scope)
		if len(t.subjects) > 1 {
			name = fmt.Sprintf("%s-%d", name, i+1)
		}
		out = append(out, azureCredential{
			Name: name, Issuer: t.cfg.Issuer, Subject: sub, Audiences: []string{t.integration.TokenAudience()},
			Description: fmt.Sprintf("broker runs of stack %s with %s scope", t.stack.ID, t.req.Scope),
		})
	}
	return out, nil
}
