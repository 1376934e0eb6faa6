package config

import (
	"errors"
	"strings"
	"testing"
)

// autoBase is base with stacks labelled and an integration in prod that autoattaches.
const autoBase = iss + `spaces:
  - id: prod
    parent: root
    inherit: true
  - id: dev
    parent: root
stacks:
  - id: vpc-prod
    space: prod
    labels: [team-platform]
  - id: dns-prod
    space: prod
    labels: [team-platform, dns]
  - id: app-dev
    space: dev
    labels: [team-platform]
integrations:
  - id: aws-read
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/read"}
    autoattach:
      - {label: team-platform, read: true}
  - id: aws-other
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/other"}
`

func TestEffectiveAttachments(t *testing.T) {
	c, err := Parse("test", []byte(autoBase+`attachments:
  - {stack: vpc-prod, integration: aws-other, write: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.EffectiveAttachments()
	want := []EffectiveAttachment{
		{Attachment{Stack: "vpc-prod", Integration: "aws-other", Write: true}, SourceDirect},
		// app-dev carries the label but dev cannot use prod's integrations.
		{Attachment{Stack: "vpc-prod", Integration: "aws-read", Read: true}, "autoattach:team-platform"},
		{Attachment{Stack: "dns-prod", Integration: "aws-read", Read: true}, "autoattach:team-platform"},
	}
	if !equal(got, want) {
		t.Errorf("EffectiveAttachments =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAutoattachErrors(t *testing.T) {
	cases := []struct {
		name, extra, path, want string
	}{
		{"conflicts with a direct read", "attachments:\n  - {stack: dns-prod, integration: aws-other, read: true}\n",
			"integrations[0].autoattach[0]", `stack "dns-prod" would have two read attachments for aws: integration "aws-other" (direct) and integration "aws-read" (autoattach:team-platform)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test", []byte(autoBase+tc.extra))
			fe := findPath(t, err, tc.path)
			if !strings.Contains(fe.Msg, tc.want) {
				t.Errorf("message %q does not contain %q", fe.Msg, tc.want)
			}
		})
	}

	bad := strings.Replace(autoBase, "{label: team-platform, read: true}", "{label: Team, read: false}", 1)
	bad = strings.Replace(bad, "labels: [team-platform, dns]", "labels: [dns, dns]", 1)
	_, err := Parse("test", []byte(bad))
	if fe := findPath(t, err, "integrations[0].autoattach[0].label"); !strings.Contains(fe.Msg, `label "Team" must match`) {
		t.Errorf("label message: %q", fe.Msg)
	}
	if fe := findPath(t, err, "integrations[0].autoattach[0]"); !strings.Contains(fe.Msg, "must set read: true, write: true or both") {
		t.Errorf("read/write message: %q", fe.Msg)
	}
	if fe := findPath(t, err, "stacks[1].labels[1]"); !strings.Contains(fe.Msg, `duplicate label "dns"`) {
		t.Errorf("duplicate label message: %q", fe.Msg)
	}
}

func TestMissingReferencesAreMarked(t *testing.T) {
	_, err := Parse("test", []byte(iss+"stacks:\n  - {id: s, space: nowhere}\nspaces:\n  - {id: a, parent: gone}\n"))
	for _, path := range []string{"stacks[0].space", "spaces[0].parent"} {
		if fe := findPath(t, err, path); !fe.Missing {
			t.Errorf("%s: Missing not set on %q", path, fe.Msg)
		}
	}
	_, err = Parse("test", []byte(iss+"stacks:\n  - {id: S, space: root}\n"))
	if fe := findPath(t, err, "stacks[0].id"); fe.Missing {
		t.Errorf("an id rule violation is marked Missing")
	}
}

// findPath returns the problem reported at path.
func findPath(t *testing.T, err error, path string) *FieldError {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	for _, fe := range errs {
		if fe.Path == path {
			return fe
		}
	}
	t.Fatalf("no problem at %s in:\n%v", path, err)
	return nil
}
