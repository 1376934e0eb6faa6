package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
)

// TestCredentialProcessFailureReachesAWSSDK drives the AWS SDK's own credential_process
// provider with `broker credentials aws --format credential-process` for a finished run. The
// credential_process contract has no failure shape: the process exits non-zero and explains on
// stderr, which the SDK passes through to its own stderr (its error says only "exit status 1").
// The reason must be there.
func TestCredentialProcessFailureReachesAWSSDK(t *testing.T) {
	d, runToken, finish := workerRun(t)
	t.Setenv("BROKER_URL", d.url)
	t.Setenv("BROKER_RUN_TOKEN", runToken)
	finish()

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	captured := make(chan string, 1)
	go func() {
		data, _ := io.ReadAll(r)
		captured <- string(data)
	}()
	saved := os.Stderr
	os.Stderr = w // the SDK hands the process its own os.Stderr
	p := processcreds.NewProvider(brokerBin + " credentials aws --format credential-process")
	creds, err := p.Retrieve(context.Background())
	os.Stderr = saved
	w.Close()
	stderr := <-captured

	if err == nil || creds.AccessKeyID != "" {
		t.Fatalf("a finished run got credentials: %+v", creds)
	}
	if !strings.Contains(stderr, "run has finished or expired") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("the SDK's stderr does not hold the reason on one line: %q (SDK error: %v)", stderr, err)
	}
	if strings.Contains(stderr, runToken) || strings.Contains(err.Error(), runToken) {
		t.Error("the run token reached an error")
	}
}
