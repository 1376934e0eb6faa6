package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables Google's executable-sourced credentials set for the executable they run.
const (
	// envGoogleAudience is the credential configuration's audience: the workload identity
	// provider's full resource name, which Google STS requires in the token's aud. It is always
	// set when a Google library runs the executable.
	envGoogleAudience = "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE"
	// envGoogleTokenType is the configuration's subject_token_type, the type Google STS is told
	// the token has.
	envGoogleTokenType = "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE"
	// envGoogleOutputFile is the configuration's output_file: the executable writes its
	// response there, and the library reads it back until the token expires.
	envGoogleOutputFile = "GOOGLE_EXTERNAL_ACCOUNT_OUTPUT_FILE"
)

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

// Subject token types of Google's executable response that a broker token can be: an ID token
// is a JWT, and Google accepts either name for it.
const (
	gcpTokenTypeJWT     = "urn:ietf:params:oauth:token-type:jwt"
	gcpTokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
)

// runGCPExecutable is `broker token --format gcp-executable`. The token's audience is
// --audience when given, else the one Google's library passes, else the broker's default; its
// token_type is the one the library asks for (jwt when it asks none), and a type a broker token
// cannot be (saml2) is refused before anything is minted.
func runGCPExecutable(ctx context.Context, e env, audience string) error {
	tokenType := strings.TrimSpace(e.getenv(envGoogleTokenType))
	switch tokenType {
	case "":
		tokenType = gcpTokenTypeJWT
	case gcpTokenTypeJWT, gcpTokenTypeIDToken:
	default:
		return printGCPExecutable(e, fmt.Errorf(
			"the credential configuration's subject_token_type is %q: broker's token is a JWT, so it must be %s or %s",
			tokenType, gcpTokenTypeJWT, gcpTokenTypeIDToken), gcpExecutableResponse{})
	}
	client, err := newWorkerClient(e)
	if err != nil {
		// A missing or refused BROKER_URL or BROKER_RUN_TOKEN is the likeliest failure under a
		// Google library (its caller did not pass them on), so it too takes the failure shape.
		return printGCPExecutable(e, err, gcpExecutableResponse{})
	}
	if audience == "" {
		audience = strings.TrimSpace(e.getenv(envGoogleAudience))
	}
	var ans tokenAnswer
	if err := client.post(ctx, "/v1/token", map[string]string{"audience": audience}, &ans); err != nil {
		return printGCPExecutable(e, err, gcpExecutableResponse{})
	}
	if err := ans.check("gcp-executable"); err != nil {
		return printGCPExecutable(e, err, gcpExecutableResponse{})
	}
	return printGCPExecutable(e, nil, gcpExecutableResponse{
		Version: 1, Success: true, TokenType: tokenType, IDToken: ans.Token, ExpirationTime: ans.ExpiresAt.Unix(),
	})
}

// printGCPExecutable prints the executable-sourced credential response, resp when callErr is
// nil, else Google's failure shape for callErr.
//
// When the library names an output file, broker writes there a response the library never
// reuses (notCached, or the failure): a run's token is worth only as much as the run's phase
// when it was asked for, so a token cached for its whole lifetime would carry a plan's read
// scope into the apply, or a finished run's write scope into the next run sharing the
// configuration. The library then runs broker each time; no token stays on disk.
//
// Run by a Google library ($GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE set), a failure exits 0 and
// writes nothing to stderr: Google's Go library discards the output of an executable that
// exits non-zero and reports only its exit code, its Python library reads stderr and stdout
// together as one JSON document, and every Google library reports the code and message of a
// "success": false response. Run by anyone else, a failure exits 1 (2 for a usage error) with
// its line on stderr, as every broker command does.
func printGCPExecutable(e env, callErr error, resp gcpExecutableResponse) error {
	if callErr != nil {
		resp = gcpFailure(callErr)
	}
	if path := strings.TrimSpace(e.getenv(envGoogleOutputFile)); path != "" {
		cached := notCached
		if callErr != nil {
			cached = resp
		}
		if err := writeGCPResponse(path, cached); err != nil && callErr == nil {
			callErr = err
			resp = gcpFailure(err)
		}
	}
	if err := json.NewEncoder(e.stdout).Encode(resp); err != nil {
		return err
	}
	if callErr != nil && strings.TrimSpace(e.getenv(envGoogleAudience)) != "" {
		return nil
	}
	return callErr
}

// notCached is what broker writes to the library's output file on success: a failure, which
// Google's libraries never reuse, so that they run broker again for the next token.
var notCached = gcpExecutableResponse{
	Version: 1, Code: "not_cached",
	Message: "broker does not cache run tokens: a token's scope follows the run's phase when it is asked for",
}

// gcpFailure is Google's failure shape for callErr: the broker's error code when the broker
// answered one (usage_error for a usage error, else broker_error), its message as the message.
func gcpFailure(callErr error) gcpExecutableResponse {
	resp := gcpExecutableResponse{Version: 1, Code: "broker_error", Message: oneLine(callErr.Error())}
	var ae *apiError
	switch {
	case errors.As(callErr, &ae):
		resp.Code = ae.Code
	case errors.As(callErr, new(usageError)):
		resp.Code = "usage_error"
	}
	return resp
}

// writeGCPResponse replaces path with resp atomically (a private temporary file in the same
// directory, renamed over it), readable by its owner only.
func writeGCPResponse(path string, resp gcpExecutableResponse) error {
	data, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".broker-gcp-*")
	if err != nil {
		return fmt.Errorf("cannot write the output file %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot write the output file %s: %w", path, err)
	}
	return nil
}
