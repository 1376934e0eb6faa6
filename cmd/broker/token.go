package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"
)

type tokenAnswer struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// errIncompleteAnswer is a broker answer of success that lacks what the command prints: an
// operational error (exit 1), never an empty line or value printed as if it were the answer.
var errIncompleteAnswer = errors.New("the broker's answer is incomplete")

// errMalformedAnswer is a broker answer of success holding what a broker never sends, such as a
// token that is no compact JWT: an operational error (exit 1), never printed, since a script
// writes the output where a stray line or character changes what it means.
var errMalformedAnswer = errors.New("the broker's answer is malformed")

// check refuses an answer that lacks what the token command prints in format: the token
// always, and its expiry too where format prints it (json, gcp-executable).
func (a tokenAnswer) check(format string) error {
	if a.Token == "" {
		return fmt.Errorf("%w: it holds no token", errIncompleteAnswer)
	}
	if !compactJWT(a.Token) {
		return fmt.Errorf("%w: its token is not a compact JWT (three base64url parts)", errMalformedAnswer)
	}
	if format != "raw" && a.ExpiresAt.IsZero() {
		return fmt.Errorf("%w: it holds no expiresAt", errIncompleteAnswer)
	}
	return nil
}

// compactJWT reports whether tok has the shape of a compact JWS: three non-empty parts of
// base64url characters separated by dots, nothing else (no space, no newline).
func compactJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, r := range p {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// asksGCPExecutable reports whether a token command asks for --format gcp-executable: format
// parsed so far says so, or args name it (the command takes no other word), also after the
// argument the parse stopped at.
func asksGCPExecutable(format string, args []string) bool {
	if format == "gcp-executable" {
		return true
	}
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "gcp-executable" || strings.HasSuffix(a, "format=gcp-executable")
	})
}

func runToken(ctx context.Context, e env, args []string) error {
	fs := newFlags("token", e)
	audience := fs.String("audience", "", "token audience (default: with --format gcp-executable, $GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE; else the broker's configured default)")
	format := fs.String("format", "raw", "output: raw (the JWT alone), json, or gcp-executable")
	if err := parseFlags(fs, args, 0); err != nil {
		if !errors.Is(err, flag.ErrHelp) && asksGCPExecutable(*format, args) {
			// The command a Google library runs: its failures, a mistyped flag in its
			// configuration included, take Google's shape.
			return printGCPExecutable(e, err, gcpExecutableResponse{})
		}
		return err
	}
	switch *format {
	case "raw", "json", "gcp-executable":
	default:
		return usagef("--format must be raw, json or gcp-executable, not %s", shownArg(*format))
	}
	if *format == "gcp-executable" {
		return runGCPExecutable(ctx, e, *audience)
	}
	client, err := newWorkerClient(e)
	if err != nil {
		return err
	}
	var ans tokenAnswer
	err = client.post(ctx, "/v1/token", map[string]string{"audience": *audience}, &ans)
	if err != nil {
		return err
	}
	if err := ans.check(*format); err != nil {
		return err
	}
	if *format == "raw" {
		_, err = fmt.Fprintln(e.stdout, ans.Token)
		return err
	}
	return json.NewEncoder(e.stdout).Encode(ans)
}
