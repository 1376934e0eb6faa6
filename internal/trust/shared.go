package trust

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
)

// sharing returns the target of every (stack, scope) whose attachment reaches the cloud through
// the same cloud-side object as t (one AWS role, one GCP workload identity provider, one Vault
// role), as same tells of an integration of t's provider. Installing that object for one of them
// replaces it for the others, so what is printed for t must serve them all, as far as mayShare
// lets it. Any other is left out, with a note (r.leftOut): an administrator of a space t's
// integration does not serve could otherwise name t's role in an integration of its own and
// have its stacks printed into the role's trust, or make that trust unprintable. t is among them, and
// they come ordered by stack, scope and integration whichever of them t is, so each prints the
// same, as a configuration file and a live broker holding the same objects do. A
// stack that shares the object but cannot be rendered (its subjects could match another stack's)
// fails the whole: printing the object without it would lock that stack out when pasted.
func (r *resolver) sharing(t *target, same func(config.Integration) bool) ([]*target, error) {
	var out []*target
	seen := map[Request]bool{}
	self := false
	for _, at := range r.cfg.EffectiveAttachments() {
		in, ok := r.cfg.Integration(at.Integration)
		if !ok || in.Provider() != t.req.Provider || !same(in) {
			continue
		}
		st, _ := r.cfg.Stack(at.Stack)
		for _, scope := range []runs.Scope{runs.Read, runs.Write} {
			if (scope == runs.Read && !at.Read) || (scope == runs.Write && !at.Write) {
				continue
			}
			if !r.mayShare(t, in, st) {
				pair := Request{Provider: t.req.Provider, Stack: at.Stack, Scope: scope, Integration: in.ID}
				if r.isLeftOut(pair) {
					continue // attached both directly and by an autoattach label
				}
				r.leftOut = append(r.leftOut, leftOutPair{
					pair: pair,
					note: fmt.Sprintf("stack %s (%s) through integration %s of space %s, which may not use integration %s of space %s",
						at.Stack, scope, in.ID, in.Space, t.integration.ID, t.integration.Space)})
				continue
			}
			req := Request{Provider: t.req.Provider, Stack: at.Stack, Scope: scope, Integration: in.ID, AWSPrincipal: t.req.AWSPrincipal}
			if seen[req] {
				continue
			}
			seen[req] = true
			if req.Stack == t.req.Stack && req.Scope == t.req.Scope && in.ID == t.integration.ID {
				self = true
				out = append(out, t)
				continue
			}
			other, err := r.resolve(req)
			if errors.Is(err, exchange.ErrNotAttachedForScope) {
				continue // another attachment of the stack takes this scope's place
			}
			if err != nil {
				return nil, fmt.Errorf("stack %s (%s) shares it through integration %s: %w", at.Stack, scope, in.ID, err)
			}
			out = append(out, other)
		}
	}
	if !self {
		out = append(out, t)
	}
	slices.SortFunc(out, func(x, y *target) int {
		return cmp.Or(strings.Compare(x.stack.ID, y.stack.ID), strings.Compare(string(x.req.Scope), string(y.req.Scope)),
			strings.Compare(x.integration.ID, y.integration.ID))
	})
	return out, nil
}

// mayShare reports whether the attachment of in to st may be printed into t's trust: in is t's
// integration, or st could attach t's integration itself, or t's stack could attach in (so
// whoever administers in's space administers t's stack's too). Either way nobody gains through
// the shared object what they could not reach with an attachment of their own.
func (r *resolver) mayShare(t *target, in config.Integration, st config.Stack) bool {
	return in.ID == t.integration.ID ||
		slices.Contains(r.cfg.UsableSpaces(st.Space), t.integration.Space) ||
		slices.Contains(r.cfg.UsableSpaces(t.stack.Space), in.Space)
}

// GrantedIdentity names the cloud identity whose credentials an exchange of in hands out: an AWS
// role, a GCP service account, an Azure application, a Vault role ("" for an integration of no
// provider). Two integrations of one identity share its trust: a read-scope pair of one,
// printed into it, lets read tokens take what the other's write pairs take. Spellings the cloud
// takes for one identity name it once: an AWS role by its partition, account and name, the
// name in any case and without its path (IAM role names are unique in an account whatever
// their case and path); an Azure application by its client id alone (unique across Entra ID,
// whichever way the tenant is named); a Vault role by its server, its namespace and the policy
// it grants, which the role printed for it names after the role (Vault keeps policy names in
// lower case), whichever JWT mount it lies on: two roles of one name on two mounts grant one
// policy.
func GrantedIdentity(in config.Integration) string {
	switch {
	case in.AWS != nil:
		return "aws " + awsRoleKey(in.AWS.RoleARN)
	case in.GCP != nil:
		return "gcp " + strings.ToLower(in.GCP.ServiceAccount)
	case in.Azure != nil:
		return "azure " + strings.ToLower(in.Azure.ClientID)
	case in.Vault != nil:
		k := VaultRoleKeyOf(in)
		return fmt.Sprintf("vault %s|%s|%s", k.Address, k.Namespace, k.Role)
	}
	return ""
}

// awsRoleKey is the role ARN arn as GrantedIdentity keys it: "partition:account:name", the name
// lower-cased and without its path; arn lower-cased when it is no role ARN.
func awsRoleKey(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "role/") {
		return strings.ToLower(arn)
	}
	name := parts[5][strings.LastIndex(parts[5], "/")+1:]
	return parts[1] + ":" + parts[4] + ":" + strings.ToLower(name)
}

// awsExternalIDKey is the condition key of an assume-role statement's ExternalId.
const awsExternalIDKey = "sts:ExternalId"

// awsPolicy is the trust policy of t's role for every attachment that assumes it: one
// statement per kind of caller (audience, principal, operator), each listing the subjects or
// ExternalIds of all the (stack, scope) pairs of that kind. Each listed value names exactly one
// pair, so the policy admits the attached pairs and no other.
func (r *resolver) awsPolicy(t *target) (any, error) {
	role := GrantedIdentity(t.integration)
	all, err := r.sharing(t, func(in config.Integration) bool { return GrantedIdentity(in) == role })
	if err != nil {
		return nil, err
	}
	policy := AWSPolicy{Version: "2012-10-17"}
	for _, o := range all {
		st, err := o.awsStatement()
		if err != nil {
			return nil, err
		}
		policy.Statement = mergeAWSStatement(policy.Statement, st, o.issuerHostPath()+":sub")
	}
	if n := policy.Chars(); n > AWSPolicyMaxChars {
		return nil, fmt.Errorf("%w: role %s's would be %d characters, for the %d stack(s) and scope(s) that share it", ErrPolicyTooLarge, role, n, len(all))
	}
	return policy, nil
}

// IAM's limits on a role's trust policy, in characters not counting white space: its default
// quota, and the most a quota increase gives.
const (
	AWSPolicyQuotaChars = 2048
	AWSPolicyMaxChars   = 4096
)

// ErrPolicyTooLarge: the stacks and scopes sharing an AWS role need a trust policy longer than
// IAM takes even with a raised quota.
var ErrPolicyTooLarge = errors.New("IAM takes a role trust policy of at most 4,096 characters (2,048 unless the quota is raised); give some of the stacks sharing this role a role of their own")

// Chars is the policy's length as IAM counts it: its JSON without white space.
func (p AWSPolicy) Chars() int {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return 0
	}
	return utf8.RuneCount(bytes.Join(bytes.Fields(buf.Bytes()), nil))
}

// mergeAWSStatement adds st to statements: into the statement that differs from it only in the
// values of its subject (subKey) or ExternalId condition, else as a statement of its own.
func mergeAWSStatement(statements []AWSStatement, st AWSStatement, subKey string) []AWSStatement {
	for i, have := range statements {
		if have.Effect != st.Effect || !maps.Equal(have.Principal, st.Principal) || !slices.Equal(have.Action, st.Action) {
			continue
		}
		op, key, ok := onlyListDiffers(have.Condition, st.Condition, subKey)
		if !ok {
			continue
		}
		values := slices.Clone(have.Condition[op][key].([]string)) // never the first target's own list
		for _, v := range st.Condition[op][key].([]string) {
			if !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		have.Condition[op][key] = values
		statements[i] = have
		return statements
	}
	return append(statements, st)
}

// onlyListDiffers reports whether conditions a and b have the same operators and keys and the
// same values under every key but the subject or ExternalId list, which it returns.
func onlyListDiffers(a, b map[string]map[string]any, subKey string) (op, key string, ok bool) {
	if len(a) != len(b) {
		return "", "", false
	}
	for o, av := range a {
		bv, found := b[o]
		if !found || len(av) != len(bv) {
			return "", "", false
		}
		for k, v := range av {
			w, found := bv[k]
			switch {
			case !found:
				return "", "", false
			case k == subKey || k == awsExternalIDKey:
				op, key = o, k
			case !reflect.DeepEqual(v, w):
				return "", "", false
			}
		}
	}
	return op, key, key != ""
}

// gcpShared is what the workload identity provider of a GCP target must hold for every
// attachment that exchanges through it.
type gcpShared struct {
	// spaces are the spaces of the attached stacks, for the attribute condition.
	spaces []string
	// audiences are the tokens' audiences, or nil when every one is the provider's default.
	audiences []string
	// subject is what google.subject maps: the sub, or the run id when some sub is too long.
	subject string
}

// gcp is t's trust configuration: the workload identity provider as every attachment
// exchanging through it needs it, and the service-account binding of t's own stack and scope
// (bindings add up; a provider replaces its condition).
func (r *resolver) gcp(t *target) (any, error) {
	name := provider.GCPAudience(t.integration.GCP.WorkloadIdentityProvider)
	all, err := r.sharing(t, func(in config.Integration) bool {
		return provider.GCPAudience(in.GCP.WorkloadIdentityProvider) == name
	})
	if err != nil {
		return nil, err
	}
	shared := gcpShared{subject: "assertion.sub"}
	custom := false
	var audiences []string
	for _, o := range all {
		if !slices.Contains(shared.spaces, o.stack.Space) {
			shared.spaces = append(shared.spaces, o.stack.Space)
		}
		custom = custom || o.integration.Audience != ""
		if aud := o.integration.TokenAudience(); !slices.Contains(audiences, aud) {
			audiences = append(audiences, aud)
		}
		// Google refuses a google.subject over 127 bytes; long space and stack ids can make the
		// sub longer, and then the run id (26 characters, unique) stands in for it.
		for _, sub := range o.subjects {
			if mintedLen(sub) > gcpMaxSubject {
				shared.subject = "assertion.runId"
			}
		}
	}
	if custom {
		shared.audiences = audiences // otherwise Google's default: the provider's own name
	}
	return t.gcp(shared)
}
