package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

type tokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

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

func runToken(ctx context.Context, e env, args []string) error {
	fs := newFlags("token", e)
	audience := fs.String("audience", "", "token audience (default: the broker's configured default)")
	format := fs.String("format", "raw", "output: raw (the JWT alone), json, or gcp-executable")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	switch *format {
	case "raw", "json", "gcp-executable":
	default:
		return usagef("--format must be raw, json or gcp-executable, not %q", *format)
	}
	client, err := newWorkerClient(e)
	if err != nil {
		return err
	}
	var ans tokenAnswer
	err = client.post(ctx, "/v1/token", map[string]string{"audience": *audience}, &ans)
	if *format == "gcp-executable" {
		return printGCPExecutable(e, ans, err)
	}
	if err != nil {
		return err
	}
	if *format == "raw" {
		_, err = fmt.Fprintln(e.stdout, ans.Token)
		return err
	}
	return json.NewEncoder(e.stdout).Encode(ans)
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
