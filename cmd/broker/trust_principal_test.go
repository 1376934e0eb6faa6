package main

import (
	"strings"
	"testing"
)

// TestTrustRefusesAWSPrincipalThatIsNoARN: --aws-principal names broker's own AWS principal,
// the only caller an assume-role trust policy admits. A value that is not one IAM role, user
// or role session ("*", which admits every AWS account that can spell the ExternalId, an
// account wildcard, or a typo) is a usage error (exit 2, nothing on stdout) and never reaches
// the policy; a role ARN still prints it.
func TestTrustRefusesAWSPrincipalThatIsNoARN(t *testing.T) {
	path := writeFile(t, "broker.yaml", `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: a, space: root, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/a"}}
attachments:
  - {stack: s1, integration: a, read: true}
`)
	trustWith := func(principal string) result {
		return runCLI(nil, "trust", "aws", "--stack", "s1", "--scope", "read",
			"--aws-principal", principal, "--config", path)
	}
	for _, principal := range []string{"*", "arn:aws:iam::*:root", "123456789012", "broker-role"} {
		r := trustWith(principal)
		if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "--aws-principal") {
			t.Errorf("--aws-principal %q: exit %d, stdout %q, stderr %q; want 2, no policy "+
				"and a message naming the flag", principal, r.code, r.stdout, r.stderr)
		}
	}
	for _, principal := range []string{
		"arn:aws:iam::111122223333:role/broker",
		"arn:aws:sts::111122223333:assumed-role/broker/run",
	} {
		r := trustWith(principal)
		if r.code != 0 || !strings.Contains(r.stdout, `"AWS": "`+principal+`"`) {
			t.Errorf("--aws-principal %q: exit %d, stdout %q, stderr %q; want 0 and the policy "+
				"naming it", principal, r.code, r.stdout, r.stderr)
		}
	}
}
