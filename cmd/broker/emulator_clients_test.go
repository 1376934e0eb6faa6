package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/tooltest"
)

// awsStack is `broker emulator` and `broker serve` on a configuration whose stack s1 reads
// through role read and writes through role write, with an AWS shared config file whose
// profile "broker" gets its credentials from `broker credentials aws --format credential-process`.
type awsStack struct {
	dir       string
	stsURL    string // the emulator's AWS STS endpoint
	broker    *daemon
	awsConfig string
}

const (
	awsReadRole  = "arn:aws:iam::000000000000:role/read"
	awsWriteRole = "arn:aws:iam::000000000000:role/write"
)

func startAWSStack(t *testing.T) *awsStack {
	t.Helper()
	dir := t.TempDir()
	emuAddr, tlsAddr, brokerAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	sum := sha256.Sum256([]byte("aws-secret"))
	cfg := filepath.Join(dir, "broker.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%[2]s
listen: %[2]s
spaces: [{id: root}, {id: demo, parent: root, inherit: true}]
stacks: [{id: s1, space: demo}]
integrations:
  - {id: aws-read, space: demo, aws: {role_arn: "%[4]s", sts_endpoint: "http://%[1]s/aws/sts", region: us-east-1}}
  - {id: aws-write, space: demo, aws: {role_arn: "%[5]s", sts_endpoint: "http://%[1]s/aws/sts", region: us-east-1}}
attachments:
  - {stack: s1, integration: aws-read, read: true}
  - {stack: s1, integration: aws-write, write: true}
roles: [{id: orch, actions: [run:create, run:update]}]
api_keys: [{id: k, secret_sha256: %[3]s, bindings: [{role: orch, space: root}]}]
`, emuAddr, brokerAddr, hex.EncodeToString(sum[:]), awsReadRole, awsWriteRole)), 0o600); err != nil {
		t.Fatal(err)
	}
	emuLogs := startProcess(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "emulator", "--config", cfg, "--listen", emuAddr, "--tls-listen", tlsAddr,
		"--cert-file", filepath.Join(dir, "emulator-cert.pem"))
	waitListening(t, emuAddr, emuLogs)
	startProcess(t, []string{"BROKER_CONFIG="}, "serve", "--config", cfg)
	waitReady(t, "http://"+brokerAddr)

	s := &awsStack{dir: dir, stsURL: "http://" + emuAddr + "/aws/sts", broker: &daemon{url: "http://" + brokerAddr},
		awsConfig: filepath.Join(dir, "aws-config")}
	if err := os.WriteFile(s.awsConfig, []byte("[profile broker]\ncredential_process = "+brokerBin+
		" credentials aws --format credential-process\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// run creates a TRACKED run of s1 in the PLANNING phase and returns its id and run token.
func (s *awsStack) run(t *testing.T) (id, token string) {
	t.Helper()
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := s.broker.post(t, request{path: "/v1/runs", bearer: "aws-secret", body: `{"stack":"s1","runType":"TRACKED","phase":"PLANNING"}`, out: &created}); code != 201 {
		t.Fatalf("create run: %d", code)
	}
	return created.Run.ID, created.RunToken
}

// clientEnv is the environment of a client process: this one's without any AWS, Terraform or
// broker setting, plus the shared config file, the run's token and extra.
func (s *awsStack) clientEnv(runToken string, extra ...string) []string {
	env := append(toolEnv(),
		"AWS_CONFIG_FILE="+s.awsConfig,
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(s.dir, "no-credentials-file"),
		"AWS_PROFILE=broker",
		"BROKER_URL="+s.broker.url, "BROKER_RUN_TOKEN="+runToken,
	)
	return append(env, extra...)
}

// toolEnv is this process's environment without any AWS, Terraform, broker or NO_PROXY
// setting, plus NO_PROXY for loopback and AWS_EC2_METADATA_DISABLED.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "TF_") || strings.HasPrefix(name, "BROKER_") ||
			strings.EqualFold(name, "NO_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "AWS_EC2_METADATA_DISABLED=true", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
}

// toolDir is where runTool runs a client program: its working directory and its whole
// environment.
type toolDir struct {
	dir string
	env []string
}

// runTool runs the client program name with args in the directory and environment of in, for
// at most three minutes, and returns its combined output.
func runTool(t *testing.T, in toolDir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = in.dir, in.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sessionARN is the ARN of the session the emulator opens for a run in role.
func sessionARN(role, runID string) string {
	return strings.Replace(strings.Replace(role, ":iam::", ":sts::", 1), ":role/", ":assumed-role/", 1) + "/broker-" + runID
}

// TestAWSCLICallerIdentity: the aws CLI, with credentials from broker's credential_process,
// asks the emulator who it is and is told the session of the run's read role; credentials the
// emulator never issued get STS's InvalidClientTokenId.
func TestAWSCLICallerIdentity(t *testing.T) {
	aws := tooltest.Look(t, "aws")
	if out, err := exec.Command(aws, "--version").CombinedOutput(); err != nil {
		if tooltest.Required("aws") {
			t.Fatalf("the aws CLI does not run (%v): %s", err, out)
		}
		t.Skipf("SKIPPED: the aws CLI does not run (%v): %s", err, out)
	}
	s := startAWSStack(t)
	id, token := s.run(t)
	out, err := runTool(t, toolDir{dir: s.dir, env: s.clientEnv(token)}, aws, "sts", "get-caller-identity",
		"--endpoint-url", s.stsURL, "--region", "us-east-1", "--output", "json")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	var who struct{ Arn, UserId, Account string }
	if err := json.Unmarshal([]byte(out), &who); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if who.Arn != sessionARN(awsReadRole, id) || who.Account != "000000000000" || !strings.HasSuffix(who.UserId, ":broker-"+id) {
		t.Errorf("caller identity = %+v, want the read role's session of run %s", who, id)
	}

	var bogus []string
	for _, kv := range s.clientEnv(token) {
		if !strings.HasPrefix(kv, "AWS_PROFILE=") {
			bogus = append(bogus, kv)
		}
	}
	bogus = append(bogus, "AWS_ACCESS_KEY_ID=ASIAQQQQQQQQQQQQQQQQ",
		"AWS_SECRET_ACCESS_KEY=not-a-secret-the-emulator-issued-000000000", "AWS_SESSION_TOKEN=bogus")
	out, err = runTool(t, toolDir{dir: s.dir, env: bogus},
		aws, "sts", "get-caller-identity", "--endpoint-url", s.stsURL, "--region", "us-east-1")
	if err == nil || !strings.Contains(out, "(InvalidClientTokenId)") {
		t.Errorf("unknown credentials: %v\n%s", err, out)
	}
}

// TestTerraformCallerIdentity: terraform with the hashicorp/aws provider from the local mirror,
// its STS endpoint on the emulator and its credentials from broker's credential_process, reads
// aws_caller_identity: in the PLANNING phase it is the read role's session, once the run is
// APPLYING the write role's.
func TestTerraformCallerIdentity(t *testing.T) {
	tf := lookTerraform(t)
	s := startAWSStack(t)
	id, token := s.run(t)

	work := filepath.Join(s.dir, "tf")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(work, "main.tf"): `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
  endpoints {
    sts = "` + s.stsURL + `"
  }
}

data "aws_caller_identity" "me" {}

output "caller_arn" {
  value = data.aws_caller_identity.me.arn
}
`,
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tfDir := toolDir{dir: work, env: s.clientEnv(token, offlineTerraformEnv(t, s.dir)...)}
	if out, err := runTool(t, tfDir, tf, "init", "-no-color", "-input=false", "-backend=false"); err != nil {
		t.Fatalf("terraform init: %v\n%s", err, out)
	}
	plan := func() string {
		out, err := runTool(t, tfDir, tf, "plan", "-no-color", "-input=false", "-lock=false", "-refresh=true")
		if err != nil {
			t.Fatalf("terraform plan: %v\n%s", err, out)
		}
		return out
	}
	if out, want := plan(), fmt.Sprintf("caller_arn = %q", sessionARN(awsReadRole, id)); !strings.Contains(out, want) {
		t.Fatalf("planning: want %s in\n%s", want, out)
	}
	if code := s.broker.post(t, request{path: "/v1/runs/" + id + "/phase", bearer: "aws-secret", body: `{"phase":"APPLYING"}`}); code != 200 {
		t.Fatalf("phase APPLYING: %d", code)
	}
	if out, want := plan(), fmt.Sprintf("caller_arn = %q", sessionARN(awsWriteRole, id)); !strings.Contains(out, want) {
		t.Fatalf("applying: want %s in\n%s", want, out)
	}
}

// tfMirror is the local filesystem mirror terraform installs the hashicorp/aws provider from.
const tfMirror = "/opt/tf-plugins"

// lookTerraform returns the terraform binary, or skips the test when terraform or the
// hashicorp/aws provider in tfMirror is missing.
func lookTerraform(t *testing.T) string {
	t.Helper()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("SKIPPED: terraform is not installed")
	}
	if _, err := os.Stat(filepath.Join(tfMirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Skipf("SKIPPED: no hashicorp/aws provider in the local mirror %s", tfMirror)
	}
	return tf
}

// offlineTerraformEnv writes a terraform CLI configuration into dir that installs providers
// only from tfMirror and returns the environment that makes terraform use it, without
// network checks or prompts.
func offlineTerraformEnv(t *testing.T, dir string) []string {
	t.Helper()
	cliConfig := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(cliConfig, []byte(`provider_installation {
  filesystem_mirror {
    path    = "`+tfMirror+`"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"TF_CLI_CONFIG_FILE=" + cliConfig, "TF_PLUGIN_CACHE_DIR=", "CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1", "TF_INPUT=0"}
}
