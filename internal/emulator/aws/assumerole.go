package awsemu

import (
	"net/http"
	"net/url"
	"slices"
)

// assumeRole authenticates the SigV4 caller, validates parameters, then applies the role's trust
// policy (trusted principal, exact ExternalId) and its maximum session duration.
func (e *Emulator) assumeRole(r *http.Request, body []byte, p url.Values, call *Call) (*assumeRoleResponse, *apiError) {
	akid, aerr := e.authenticate(r, body)
	if aerr != nil {
		return nil, aerr
	}
	call.AccessKey = akid

	var v validation
	call.RoleARN = v.str(p, "RoleArn", "roleArn", true, 20, 2048, nil)
	call.SessionName = v.str(p, "RoleSessionName", "roleSessionName", true, 2, 64, sessionNamePattern)
	call.ExternalID = v.str(p, "ExternalId", "externalId", false, 2, 1224, externalIDPattern)
	call.SourceIdentity = v.str(p, "SourceIdentity", "sourceIdentity", false, 2, 64, sessionNamePattern)
	call.DurationSeconds = v.duration(p)
	v.str(p, "Policy", "policy", false, 1, 2048, nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	tags, aerr := parseQueryTags(p)
	if aerr != nil {
		return nil, aerr
	}
	call.SessionTags = tags

	role, ok := e.roles[call.RoleARN]
	if !ok || !slices.Contains(role.Trust.Principals, akid) ||
		(role.Trust.ExternalID != "" && call.ExternalID != role.Trust.ExternalID) {
		return nil, accessDenied("User: " + akid + " is not authorized to perform: sts:AssumeRole on resource: " + call.RoleARN)
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
