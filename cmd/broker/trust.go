package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/brokerhq/broker/internal/config"
	providers "github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/trust"
)

const trustSynopsis = "broker trust aws|gcp|azure|vault [--config FILE] --stack ID --scope read|write [--integration ID] [--aws-principal ARN]"

// principalPlaceholder stands for broker's own AWS principal in an assume-role trust policy
// printed without --aws-principal. IAM refuses it as a principal, so the policy cannot be
// installed until it is replaced.
const principalPlaceholder = "REPLACE-WITH-BROKERS-OWN-AWS-PRINCIPAL-ARN"

func runTrust(ctx context.Context, e env, args []string) error {
	fs := newFlags("trust", e)
	setSynopsis(fs, trustSynopsis)
	path := fs.String("config", "", "configuration file (default $BROKER_CONFIG, else read the live broker at BROKER_URL with BROKER_API_KEY)")
	stack := fs.String("stack", "", "stack id (required)")
	scope := fs.String("scope", "", "read or write (required)")
	integration := fs.String("integration", "", "integration id (default: the one attached for the scope)")
	principal := fs.String("aws-principal", "", "broker's own AWS principal ARN (aws assume-role integrations)")
	if len(args) > 0 && args[0] == "help" {
		args[0] = "-h"
	}
	provider, err := parseProvider(fs, args, trustSynopsis)
	if err != nil {
		return err
	}
	switch {
	case !providers.Known(provider):
		return usagef("unknown provider %s: want %s", shownArg(provider), providers.NameList())
	case *stack == "":
		return usagef("--stack is required")
	case *scope != "read" && *scope != "write":
		return usagef("--scope must be read or write")
	}
	if err := checkID("--stack", *stack); err != nil {
		return err
	}
	if err := checkOptionalID("--integration", *integration); err != nil {
		return err
	}
	if *principal != "" && !trust.ValidAWSPrincipal(*principal) {
		return usagef("--aws-principal must be the ARN of broker's own IAM role or user " +
			"(arn:aws:iam::<account>:role/<name> or user/<name>) or role session " +
			"(arn:aws:sts::<account>:assumed-role/<role>/<session>): a wildcard or an account " +
			"would admit any caller that knows the ExternalId")
	}
	if *path == "" {
		*path = e.getenv("BROKER_CONFIG")
	}
	var cfg *config.Config
	if *path != "" {
		cfg, err = config.Load(*path)
	} else {
		if e.getenv("BROKER_URL") == "" {
			return usagef("--config FILE is required unless BROKER_URL and BROKER_API_KEY name a live broker to read (or BROKER_CONFIG names a file)")
		}
		cfg, err = liveConfig(ctx, e, *stack)
	}
	if err != nil {
		return err
	}
	req := trust.Request{
		Provider: provider, Stack: *stack, Scope: runs.Scope(*scope), Integration: *integration, AWSPrincipal: *principal,
	}
	doc, leftOut, err := trust.RenderNotes(cfg, req)
	placeholder := errors.Is(err, trust.ErrNeedsPrincipal) && req.AWSPrincipal == ""
	if placeholder {
		req.AWSPrincipal = principalPlaceholder
		doc, leftOut, err = trust.RenderNotes(cfg, req)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if placeholder {
		fmt.Fprintf(e.stderr, "note: the Principal %s stands for broker's own AWS principal (the role or user of the AWS credentials broker runs with): replace it, or pass --aws-principal ARN\n", principalPlaceholder)
	}
	for _, n := range leftOut {
		fmt.Fprintf(e.stderr, "note: left out, as another subtree's: %s; installing this removes it from the %s trust\n", n, provider)
	}
	if reads, err := trust.ReadBesideWrite(cfg, req); err == nil && len(reads) > 0 {
		fmt.Fprintf(e.stderr, "note: stacks are attached to this cloud identity for write, and these for read: %s; read-scope tokens, a pull request's among them, take what write runs take\n",
			strings.Join(reads, ", "))
	}
	if policy, ok := doc.(trust.AWSPolicy); ok && policy.Chars() > trust.AWSPolicyQuotaChars {
		fmt.Fprintf(e.stderr, "note: this trust policy is %d characters; IAM takes %d unless the account's quota is raised (to at most %d)\n",
			policy.Chars(), trust.AWSPolicyQuotaChars, trust.AWSPolicyMaxChars)
	}
	if provider == providers.Vault {
		// stdout stays the role's JSON alone, so it can be piped into the line printed here.
		line, err := trust.VaultWriteCommand(cfg, req)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "install it by piping this output into: %s\n", line)
		mount, err := trust.VaultAuthConfigCommand(cfg, req)
		if err != nil {
			return err
		}
		// Without bound_issuer Vault checks no iss: a token of another issuer whose key the
		// JWKS holds would log in.
		fmt.Fprintf(e.stderr, "the JWT auth mount must check the issuer; configure it with (this replaces its whole configuration: add any other setting it needs to the line): %s\n", mount)
	}
	return nil
}
