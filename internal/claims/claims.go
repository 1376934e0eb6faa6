package claims

import (
	"github.com/brokerhq/broker/internal/runs"
)

// CallerTypeStack is the only caller type today: runs belong to stacks.
const CallerTypeStack = "stack"

// Claims is the payload of a broker ID token. Field order is the order of the contract.
type Claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf"`
	ID        string `json:"jti"`

	SpaceID    string     `json:"spaceId"`
	CallerType string     `json:"callerType"`
	CallerID   string     `json:"callerId"`
	RunType    runs.Type  `json:"runType"`
	RunID      string     `json:"runId"`
	RunPhase   runs.Phase `json:"runPhase"`
	Scope      runs.Scope `json:"scope"`

	// AWSTags is AWS's session-tags claim, set only for integrations that ask for it.
	AWSTags *AWSTags `json:"https://aws.amazon.com/tags,omitempty"`
}

// AWSTags is the value of the `https://aws.amazon.com/tags` claim that AWS STS turns into
// session (principal) tags on AssumeRoleWithWebIdentity.
type AWSTags struct {
	PrincipalTags     map[string][]string `json:"principal_tags"`
	TransitiveTagKeys []string            `json:"transitive_tag_keys,omitempty"`
}

// SessionTags are the AWS session tags of a session of run with scope, for integrations that
// ask for them (session_tags): its space, stack, run id and scope, by key. A web identity token
// carries them in its AWSTags claim; an AssumeRole call sends them as its Tags.
func SessionTags(run runs.Run, scope runs.Scope) map[string]string {
	return map[string]string{"space": run.Space, "stack": run.Stack, "run": run.ID, "scope": string(scope)}
}

// Supported lists the claim names broker may put in a token, for the discovery document.
var Supported = []string{
	"iss", "sub", "aud", "exp", "iat", "nbf", "jti",
	"spaceId", "callerType", "callerId", "runType", "runId", "runPhase", "scope",
}
