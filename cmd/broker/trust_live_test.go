package main

import (
	"strings"
	"testing"
)

// trustObjects are objects of every provider, a space with its own subject template, an
// attachment an autoattach rule makes, and direct ones.
const trustObjects = `spaces:
  - {id: prod, parent: root, inherit: true, subject_template: "space:{spaceId}:stack:{callerId}:type:{runType}:scope:{scope}"}
  - {id: team-a, parent: prod, inherit: true}
stacks:
  - {id: vpc, space: prod, labels: [net]}
  - {id: app, space: team-a}
  - {id: web, space: team-a}
integrations:
  - id: aws-read
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/read"}
    autoattach: [{label: net, read: true}]
  - id: aws-write
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/write", session_tags: true}
  - id: gcp
    space: prod
    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com}
  - id: azure
    space: prod
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}
  - id: vault
    space: prod
    vault: {address: "http://127.0.0.1:8200", role: ops}
    audience: vault
attachments:
  - {stack: vpc, integration: aws-write, write: true}
  - {stack: vpc, integration: gcp, read: true, write: true}
  - {stack: app, integration: azure, read: true, write: true}
  - {stack: app, integration: vault, write: true}
  - {stack: app, integration: aws-read, read: true}
  - {stack: web, integration: vault, write: true}
`

func TestTrustFromALiveBrokerMatchesTrustFromTheFile(t *testing.T) {
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", trustObjects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	// The same objects in a configuration file, with the live broker's issuer.
	file := writeFile(t, "broker.yaml", "issuer: http://127.0.0.1:8080\n"+trustObjects)
	cases := [][]string{
		{"aws", "--stack", "vpc", "--scope", "read"},
		{"aws", "--stack", "vpc", "--scope", "write"},
		{"aws", "--stack", "app", "--scope", "read"},
		{"gcp", "--stack", "vpc", "--scope", "write"},
		{"azure", "--stack", "app", "--scope", "read"},
		{"vault", "--stack", "app", "--scope", "write"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			fromFile := runCLI(nil, append([]string{"trust"}, append(args, "--config", file)...)...)
			live := b.cli(t, liveReader, append([]string{"trust"}, args...)...)
			if fromFile.code != 0 || live.code != 0 {
				t.Fatalf("from the file: %+v\nlive: %+v", fromFile, live)
			}
			if live.stdout != fromFile.stdout {
				t.Errorf("live:\n%s\nfrom the file:\n%s", live.stdout, fromFile.stdout)
			}
		})
	}
	// One Vault role serves app and web: what is printed for app must admit web too, or
	// installing it would lock web out.
	if r := b.cli(t, liveReader, "trust", "vault", "--stack", "app", "--scope", "write"); !strings.Contains(r.stdout, `"callerId": [
      "app",
      "web"
    ]`) {
		t.Errorf("vault role of app:\n%s", r.stdout)
	}
	// A stack whose space has its own template gets that template's subjects.
	if r := b.cli(t, liveReader, "trust", "aws", "--stack", "vpc", "--scope", "read"); !strings.Contains(r.stdout, "space:prod:stack:vpc:type:TRACKED:scope:read") {
		t.Errorf("aws read policy of vpc:\n%s", r.stdout)
	}
}

func TestTrustFromALiveBrokerRefuses(t *testing.T) {
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "objects.yaml", trustObjects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	// A stack the base-only key sees, attached to an integration of its own space.
	b.put(t, "/v1/stacks/edge", `{"space":"base"}`)
	b.put(t, "/v1/integrations/aws-edge", `{"space":"base","aws":{"roleArn":"arn:aws:iam::123456789012:role/edge"}}`)
	b.put(t, "/v1/stacks/edge/attachments/aws-edge", `{"read":true}`)
	if r := b.cli(t, liveReader, "trust", "aws", "--stack", "edge", "--scope", "read"); r.code != 0 {
		t.Fatalf("trust with a key bound on root: %+v", r)
	}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		code int
		msg  string
	}{
		{"a key that sees part of the tree", map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveBaseKey},
			[]string{"trust", "aws", "--stack", "edge", "--scope", "read"}, 1, "does not see every space"},
		{"no such stack", map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveReader},
			[]string{"trust", "aws", "--stack", "nope", "--scope", "read"}, 1, `no stack "nope"`},
		{"nothing attached", map[string]string{"BROKER_URL": b.url, "BROKER_API_KEY": liveReader},
			[]string{"trust", "azure", "--stack", "vpc", "--scope", "read"}, 1, "no azure integration attached"},
		{"neither file nor broker", nil, []string{"trust", "aws", "--stack", "vpc", "--scope", "read"}, 2, "--config FILE is required unless BROKER_URL"},
		{"broker without key", map[string]string{"BROKER_URL": b.url}, []string{"trust", "aws", "--stack", "vpc", "--scope", "read"}, 2, "BROKER_API_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(tc.vars, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want one line with %q)", r.code, tc.code, r.stdout, r.stderr, tc.msg)
			}
		})
	}
}
