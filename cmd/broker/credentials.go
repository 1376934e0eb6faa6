package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	providers "github.com/brokerhq/broker/internal/provider"
)

// credentialsAnswer is POST /v1/credentials's answer; the provider's own object is kept raw.
type credentialsAnswer struct {
	Provider    string            `json:"provider"`
	Integration string            `json:"integration"`
	Scope       string            `json:"scope"`
	ExpiresAt   time.Time         `json:"expiresAt"`
	Env         map[string]string `json:"env"`
}

// credentialProcess is the JSON the AWS CLI and SDKs read from a credential_process command.
type credentialProcess struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

const credentialsSynopsis = "broker credentials aws|gcp|azure|vault [--integration ID] [--format env|json|credential-process]"

func runCredentials(ctx context.Context, e env, args []string) error {
	fs := newFlags("credentials", e)
	setSynopsis(fs, credentialsSynopsis)
	integration := fs.String("integration", "", "integration id (default: the one attached to the run's stack for its current scope)")
	format := fs.String("format", "env", "output: env (export lines), json, or credential-process (aws only)")
	if len(args) > 0 && args[0] == "help" {
		args[0] = "-h"
	}
	provider, err := parseProvider(fs, args, credentialsSynopsis)
	if err != nil {
		return err
	}
	if !providers.Known(provider) {
		return usagef("unknown provider %s: want %s", shownArg(provider), providers.NameList())
	}
	switch *format {
	case "env", "json":
	case "credential-process":
		if provider != providers.AWS {
			return usagef("--format credential-process is for aws only")
		}
	default:
		return usagef("--format must be env, json or credential-process, not %s", shownArg(*format))
	}
	if err := checkOptionalID("--integration", *integration); err != nil {
		return err
	}
	client, err := newWorkerClient(e)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := client.post(ctx, "/v1/credentials", map[string]string{"provider": provider, "integration": *integration}, &raw); err != nil {
		return err
	}
	var ans credentialsAnswer
	if err := ans.read(raw); err != nil {
		return fmt.Errorf("broker's answer is not the expected JSON: %w", err)
	}
	if err := ans.check(provider, *format); err != nil {
		return err
	}
	switch *format {
	case "json":
		_, err = fmt.Fprintln(e.stdout, string(raw))
	case "credential-process":
		err = json.NewEncoder(e.stdout).Encode(credentialProcess{
			Version: 1, AccessKeyID: ans.Env[providers.EnvAWSAccessKeyID], SecretAccessKey: ans.Env[providers.EnvAWSSecretAccessKey],
			SessionToken: ans.Env[providers.EnvAWSSessionToken], Expiration: ans.ExpiresAt.UTC().Format(time.RFC3339),
		})
	default:
		names := make([]string, 0, len(ans.Env))
		for name := range ans.Env {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if _, err = fmt.Fprintf(e.stdout, "export %s=%s\n", name, shellQuote(ans.Env[name])); err != nil {
				break
			}
		}
	}
	return err
}

// read decodes raw as a reader of the printed answer (jq, a script) sees it: env and expiresAt
// are those exact keys, the last of duplicates, where Go's decoder alone would also take "Env"
// or "ENV" and merge duplicate objects, so that the answer checked is the answer printed.
func (a *credentialsAnswer) read(raw []byte) error {
	if err := json.Unmarshal(raw, a); err != nil {
		return err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	a.Env, a.ExpiresAt = nil, time.Time{}
	if v, ok := top["env"]; ok {
		if err := json.Unmarshal(v, &a.Env); err != nil {
			return err
		}
	}
	if v, ok := top["expiresAt"]; ok {
		return json.Unmarshal(v, &a.ExpiresAt)
	}
	return nil
}

// check refuses an answer that lacks what the credentials command prints in format: each
// environment variable a run always receives from provider's exchange (AWS_ACCESS_KEY_ID...
// for aws), with a value, in every format; and the expiry where format prints it
// (credential-process). The message names what is missing and never echoes the answer, which
// holds secrets.
func (a credentialsAnswer) check(provider, format string) error {
	facts, _ := providers.Lookup(provider)
	for name := range a.Env {
		if !facts.MaySet(name) {
			// The name is not echoed: the answer is not what a broker sends, and its env
			// holds secrets. A shell identifier is not enough: PATH, LD_PRELOAD or BASH_ENV
			// would take over the shell that evals the output.
			return fmt.Errorf("%w: its env names a variable that is none of %s's", errMalformedAnswer, provider)
		}
	}
	for _, name := range facts.Env {
		if a.Env[name] == "" {
			return fmt.Errorf("%w: its env holds no %s", errIncompleteAnswer, name)
		}
	}
	if format == "credential-process" && a.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: it holds no expiresAt", errIncompleteAnswer)
	}
	return nil
}

// shellQuote quotes s for POSIX shells: single quotes, with embedded ones closed and escaped.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
