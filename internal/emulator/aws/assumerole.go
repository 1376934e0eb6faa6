package awsemu

import (
	"net/http"
	"net/url"
	"slices"
)

// assumeRole authenticates the SigV4 caller, validates parameters, session policy and session
// tags, then applies the role's trust policy (trusted principal, exact ExternalId, the
// permission to tag the session or set its source identity) and its maximum session duration.
func (e *Emulator) assumeRole(r *http.Request, body []byte, p url.Values, call *Call) (*assumeRoleResponse, *apiError) {
	akid, aerr := e.authenticate(r, body)
	if aerr != nil {
		return nil, aerr
	}
	call.AccessKey = akid

	var v validation
	call.RoleARN = v.str(p, strParam{Name: "RoleArn", Field: "roleArn", Required: true, MinLen: 20, MaxLen: 2048, Pattern: arnPattern})
	call.SessionName = v.str(p, strParam{Name: "RoleSessionName", Field: "roleSessionName", Required: true, MinLen: 2, MaxLen: 64, Pattern: sessionNamePattern})
	call.ExternalID = v.str(p, strParam{Name: "ExternalId", Field: "externalId", MinLen: 2, MaxLen: 1224, Pattern: externalIDPattern})
	call.SourceIdentity = v.str(p, sourceIdentityParam)
	call.DurationSeconds = v.duration(p)
	v.str(p, strParam{Name: "Policy", Field: "policy", MinLen: 1, MaxLen: 2048, Pattern: policyPattern})
	v.policyArns(p)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkSessionPolicy(p); err != nil {
		return nil, err
	}
	tags, aerr := parseQueryTags(p)
	if aerr != nil {
		return nil, aerr
	}
	call.SessionTags = tags
	if call.TransitiveTagKeys, aerr = parseQueryTransitive(p, tags); aerr != nil {
		return nil, aerr
	}

	role, ok := e.roles[call.RoleARN]
	if !ok || !slices.Contains(role.Trust.Principals, akid) ||
		(role.Trust.ExternalID != "" && call.ExternalID != role.Trust.ExternalID) {
		return nil, accessDenied("User: " + akid + " is not authorized to perform: sts:AssumeRole on resource: " + call.RoleARN)
	}
	if len(tags) > 0 && !role.Trust.TagSession {
		return nil, accessDenied("User: " + akid + " is not authorized to perform: sts:TagSession on resource: " + call.RoleARN)
	}
	if call.SourceIdentity != "" && !role.Trust.SetSourceIdentity {
		return nil, accessDenied("User: " + akid + " is not authorized to perform: sts:SetSourceIdentity on resource: " + call.RoleARN)
	}
	if err := checkMaxDuration(role, call.DurationSeconds); err != nil {
		return nil, err
	}

	creds, user := e.issue(role, call.SessionName, call.DurationSeconds)
	return &assumeRoleResponse{
		Xmlns: Namespace,
		Result: assumeRoleResult{
			Credentials:     creds,
			AssumedRoleUser: user,
			SourceIdentity:  call.SourceIdentity,
		},
	}, nil
}
