package awsemu

import (
	"crypto/subtle"
	"net/http"
	"sync"
	"time"
)

// keepExpired is how long a session is remembered after it expires, so that its credentials get
// ExpiredToken rather than InvalidClientTokenId, as with the real STS.
const keepExpired = 24 * time.Hour

// session is the identity behind temporary credentials the emulator issued.
type session struct {
	secret  string
	token   string
	expires time.Time
	roleARN string
	name    string // the role session name
	arn     string // arn:<partition>:sts::<account>:assumed-role/<role>/<session>
	userID  string // <role id>:<session>
	account string
}

// sessions are the temporary credentials issued so far, by access key id.
type sessions struct {
	mu    sync.Mutex
	byKey map[string]session
}

// add remembers s under its access key id and forgets sessions long expired.
func (ss *sessions) add(akid string, s session, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.byKey == nil {
		ss.byKey = make(map[string]session)
	}
	for k, old := range ss.byKey {
		if now.After(old.expires.Add(keepExpired)) {
			delete(ss.byKey, k)
		}
	}
	ss.byKey[akid] = s
}

// lookup finds the session of akid and checks the session token presented with it (the
// X-Amz-Security-Token header) and its expiry at now, answering STS's errors.
func (ss *sessions) lookup(akid, token string, now time.Time) (session, *apiError) {
	ss.mu.Lock()
	s, ok := ss.byKey[akid]
	ss.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(s.token), []byte(token)) != 1 {
		return session{}, invalidClientTokenID()
	}
	if !now.Before(s.expires) {
		return session{}, &apiError{status: http.StatusForbidden, code: "ExpiredToken",
			message: "The security token included in the request is expired"}
	}
	return s, nil
}

func invalidClientTokenID() *apiError {
	return &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId",
		message: "The security token included in the request is invalid."}
}
