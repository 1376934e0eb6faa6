package aws

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestOwnCredentialsQuotedByTheSDKStayOutOfTheLog: broker's own AWS credentials come from the SDK
// default chain; a credential_process whose JSON the SDK cannot parse (here an Expiration in a
// non-RFC 3339 format) makes the SDK quote the process's whole output, secret access key and
// session token included. broker logs that error at Warn: without them.
func TestOwnCredentialsQuotedByTheSDKStayOutOfTheLog(t *testing.T) {
	const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZZREVIEWSECRET"
	const sessionTok = "FwoGZXIvYXdzEZZREVIEWSESSIONTOKEN0123456789"
	dir := t.TempDir()
	out := `{"Version": 1, "AccessKeyId": "AKIAZZREVIEW00000001", "SecretAccessKey": "` + secretKey +
		`", "SessionToken": "` + sessionTok + `", "Expiration": "2030-01-01 00:00:00"}`
	script := filepath.Join(dir, "creds.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"\nEOF\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("[default]\ncredential_process = "+script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")

	_, endpoint := assumeEnv(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	x := exchange.Observe(New(Options{Issuer: issuerURL, HTTPClient: fastClient(), Logger: log}),
		exchange.ObserveConfig{Provider: exchange.AWS, Logger: log})
	_, err := x.Exchange(context.Background(), exchange.Request{Run: run(runs.Read),
		Integration: assumeIntegration("aws-assume-read", assumeRead, endpoint), Tokens: noTokens{t}})
	if err == nil {
		t.Fatal("exchange succeeded")
	}
	if !strings.Contains(logs.String(), "did not load") || !strings.Contains(logs.String(), "parse failed of process output") {
		t.Errorf("the log does not tell why broker's own credentials did not load:\n%s", logs.String())
	}
	for _, s := range []string{secretKey, sessionTok} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error returned holds a secret: %v", err)
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("server log holds broker's own AWS secret %q:\n%s", s, logs.String())
		}
	}
}
