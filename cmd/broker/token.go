package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type tokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func runToken(ctx context.Context, e env, args []string) error {
	fs := newFlags("token", e)
	audience := fs.String("audience", "", "token audience (default: with --format gcp-executable, $GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE; else the broker's configured default)")
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
	aud := *audience
	if *format == "gcp-executable" && aud == "" {
		aud = strings.TrimSpace(e.getenv(envGoogleAudience))
	}
	var ans tokenAnswer
	err = client.post(ctx, "/v1/token", map[string]string{"audience": aud}, &ans)
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
