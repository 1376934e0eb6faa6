package main

import "encoding/json"

// envGoogleAudience is set by Google's executable-sourced credentials for the executable they
// run, always, to the credential configuration's audience: the workload identity provider's
// full resource name, which Google STS requires in the token's aud.
const envGoogleAudience = "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE"

// gcpExecutableResponse is the JSON Google's executable-sourced credentials read from stdout.
type gcpExecutableResponse struct {
	Version        int    `json:"version"`
	Success        bool   `json:"success"`
	TokenType      string `json:"token_type,omitempty"`
	IDToken        string `json:"id_token,omitempty"`
	ExpirationTime int64  `json:"expiration_time,omitempty"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
}

// printGCPExecutable prints the executable-sourced credential response, including Google's
// failure shape, and still exits non-zero on failure.
func printGCPExecutable(e env, ans tokenAnswer, callErr error) error {
	resp := gcpExecutableResponse{Version: 1, Success: callErr == nil}
	if callErr == nil {
		resp.TokenType = "urn:ietf:params:oauth:token-type:jwt"
		resp.IDToken = ans.Token
		resp.ExpirationTime = ans.ExpiresAt.Unix()
	} else {
		resp.Code = "broker_error"
		if ae, ok := callErr.(*apiError); ok {
			resp.Code = ae.Code
		}
		resp.Message = callErr.Error()
	}
	if err := json.NewEncoder(e.stdout).Encode(resp); err != nil {
		return err
	}
	return callErr
}
