package awsemu

import (
	"net/http"
)

// getCallerIdentity answers for temporary credentials the emulator issued: the request must be
// signed with Signature Version 4 by the session's secret and carry its session token. Long-term
// AccessKeys have no identity configured and are refused as unknown.
func (e *Emulator) getCallerIdentity(r *http.Request, body []byte, call *Call) (*callerIdentityResponse, *apiError) {
	var s session
	akid, aerr := e.verifySigV4(r, body, func(akid string) (string, *apiError) {
		var err *apiError
		s, err = e.sessions.lookup(akid, r.Header.Get("X-Amz-Security-Token"), e.now())
		return s.secret, err
	})
	call.AccessKey = akid
	if aerr != nil {
		return nil, aerr
	}
	call.RoleARN, call.SessionName = s.roleARN, s.name
	return &callerIdentityResponse{
		Xmlns:  Namespace,
		Result: callerIdentityResult{Arn: s.arn, UserID: s.userID, Account: s.account},
	}, nil
}
