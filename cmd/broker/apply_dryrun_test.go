package main

import (
	"slices"
	"strings"
	"testing"
)

// TestApplyDryRunChecksTheFileAgainstTheBroker: a dry run checks the file's objects, in place
// among the broker's, with the configuration rules: it fails (exit 1) naming each object the
// broker would refuse and why, where it used to say they would be created, and passes a file
// the broker takes. Problems the broker's objects already have are not the file's.
func TestApplyDryRunChecksTheFileAgainstTheBroker(t *testing.T) {
	b := startLive(t, liveFile(`stacks:
  - {id: net, space: base}
integrations:
  - {id: aws-read, space: base, aws: {role_arn: "arn:aws:iam::123456789012:role/read"}}
attachments:
  - {stack: net, integration: aws-read, read: true}
`))
	bad := `stacks:
  - {id: lost, space: nowhere}
  - {id: ok, space: base}
integrations:
  - {id: aws-read-2, space: base, aws: {role_arn: "arn:aws:iam::123456789012:role/read-2"}}
attachments:
  - {stack: net, integration: aws-read-2, read: true}
`
	r := b.cli(t, liveAdmin, "apply", "--dry-run", "-f", writeFile(t, "bad.yaml", bad))
	if r.code != 1 || !strings.Contains(r.stderr, "the file breaks 2 of the configuration rules") {
		t.Fatalf("dry run of a file the broker would refuse: %+v", r)
	}
	var refused []string
	for _, l := range lines(r.stdout) {
		if strings.HasSuffix(l, "(the broker would refuse it)") {
			refused = append(refused, l)
		}
	}
	if len(refused) != 2 || !strings.HasPrefix(refused[0], "stack/lost.space: ") || !strings.Contains(refused[0], "nowhere") ||
		!strings.HasPrefix(refused[1], "attachment/net/aws-read-2") || !strings.Contains(refused[1], "aws") {
		t.Errorf("refused lines %q in:\n%s", refused, r.stdout)
	}
	if n := b.writeCount(); n != 0 {
		t.Errorf("the dry run sent changing requests: %v", b.writesSince(0))
	}
	// The broker agrees: the real apply fails on those two objects.
	r = b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "bad.yaml", bad))
	if r.code != 1 || !strings.Contains(r.stderr, "stack/lost") || !strings.Contains(r.stderr, "attachment/net/aws-read-2") {
		t.Errorf("apply of the file the dry run refused: %+v", r)
	}

	good := "stacks:\n  - {id: fine, space: base}\n"
	r = b.cli(t, liveAdmin, "apply", "--dry-run", "-f", writeFile(t, "good.yaml", good))
	want := []string{"stack/fine created (dry run)", "dry run, nothing changed: 1 to create, 0 to change, 0 unchanged"}
	if r.code != 0 || !slices.Equal(lines(r.stdout), want) {
		t.Errorf("dry run of a file the broker takes: %+v", r)
	}
}

// TestApplyDryRunSaysWhenItCannotCheck: a key that does not see every space cannot check the
// file against the broker's objects; the dry run says so rather than passing in silence.
func TestApplyDryRunSaysWhenItCannotCheck(t *testing.T) {
	b := startLive(t, liveFile(""))
	r := b.cli(t, liveBaseKey, "apply", "--dry-run", "-f", writeFile(t, "s.yaml", "stacks:\n  - {id: s1, space: base}\n"))
	if r.code != 0 || !strings.Contains(r.stdout, "not checked against the broker's other objects: BROKER_API_KEY does not see every space") {
		t.Errorf("dry run with a key on base only: %+v", r)
	}
}
