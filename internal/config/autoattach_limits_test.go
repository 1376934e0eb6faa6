package config

import (
	"fmt"
	"strings"
	"testing"
)

// autoattachRules is n autoattach rules, each {label: labels[j % len(labels)], read: true}.
func autoattachRules(n int, labels ...string) []Autoattach {
	out := make([]Autoattach, n)
	for j := range out {
		out[j] = Autoattach{Label: labels[j%len(labels)], Read: true}
	}
	return out
}

// autoObjects is a space prod, stacks s-0 to s-(stacks-1) in it carrying labels, and the
// integration aws in prod with rules.
func autoObjects(stacks int, labels []string, rules []Autoattach) *Config {
	c := &Config{
		Spaces:       []Space{{ID: "root"}, {ID: "prod", Parent: "root"}},
		Integrations: []Integration{{ID: "aws", Space: "prod", AWS: &AWS{RoleARN: "arn:aws:iam::123456789012:role/r"}, Autoattach: rules}},
	}
	for i := range stacks {
		c.Stacks = append(c.Stacks, Stack{ID: fmt.Sprintf("s-%d", i), Space: "prod", Labels: labels})
	}
	c.ApplyObjectDefaults()
	return c
}

// TestEffectiveAttachmentsOnePerStackAndIntegration: the autoattach rules of one integration
// matching a stack make one attachment, whatever their number, with the read and write of them
// all and the first one's label as source; a direct attachment of the pair stays listed first.
func TestEffectiveAttachmentsOnePerStackAndIntegration(t *testing.T) {
	repeated := autoObjects(100, []string{"x"}, autoattachRules(2000, "x"))
	if got := len(repeated.EffectiveAttachments()); got != 100 {
		t.Errorf("2000 rules on label x and 100 stacks carrying it make %d attachments, want 100", got)
	}

	many := make([]string, MaxStackLabels)
	for j := range many {
		many[j] = fmt.Sprintf("l-%d", j)
	}
	distinct := autoObjects(10, many, autoattachRules(MaxAutoattachRules, many...))
	if got := len(distinct.EffectiveAttachments()); got != 10 {
		t.Errorf("%d rules on distinct labels and 10 stacks carrying them all make %d attachments, want 10", MaxAutoattachRules, got)
	}

	merged := autoObjects(1, []string{"b", "a"}, []Autoattach{{Label: "a", Read: true}, {Label: "b", Write: true}, {Label: "a", Read: true}})
	merged.Attachments = []Attachment{{Stack: "s-0", Integration: "aws", Read: true}}
	want := []EffectiveAttachment{
		{Attachment{Stack: "s-0", Integration: "aws", Read: true}, SourceDirect},
		{Attachment{Stack: "s-0", Integration: "aws", Read: true, Write: true}, "autoattach:a"},
	}
	if got := merged.EffectiveAttachments(); !equal(got, want) {
		t.Errorf("EffectiveAttachments =\n%+v\nwant\n%+v", got, want)
	}
}

// TestLabelLimits: the file may not repeat an autoattach label, nor hold more than
// MaxAutoattachRules rules on an integration or MaxStackLabels labels on a stack, and
// CheckLabelLimits says so in the same words; ValidateObjects, which checks the objects the API
// stored, takes them (from a build before these rules).
func TestLabelLimits(t *testing.T) {
	labels := make([]string, MaxStackLabels+1)
	for j := range labels {
		labels[j] = fmt.Sprintf("l-%d", j)
	}
	cases := []struct {
		name        string
		stackLabels []string
		rules       []Autoattach
		path, want  string
	}{
		{"repeated label", []string{"x"}, autoattachRules(4, "x", "y"),
			"integrations[0].autoattach[2].label", `duplicate autoattach label "x" (rule 0 names it too)`},
		{"too many rules", []string{"x"}, autoattachRules(MaxAutoattachRules+1, labels...),
			"integrations[0].autoattach", "65 autoattach rules; an integration has at most 64"},
		{"too many stack labels", labels, autoattachRules(1, "x"),
			"stacks[0].labels", "65 labels; a stack carries at most 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := autoObjects(1, tc.stackLabels, tc.rules)
			if err := c.ValidateObjects(); err != nil {
				t.Errorf("ValidateObjects refuses what an older build stored: %v", err)
			}
			c.Issuer = "https://broker.example.com"
			c.ApplyDefaults()
			if fe := findPath(t, c.Validate(), tc.path); !strings.Contains(fe.Msg, tc.want) {
				t.Errorf("Validate at %s: %q, want it to contain %q", tc.path, fe.Msg, tc.want)
			}
			obj, base := any(c.Integrations[0]), "integrations[0]"
			if strings.HasPrefix(tc.path, "stacks") {
				obj, base = c.Stacks[0], "stacks[0]"
			}
			if fe := findPath(t, CheckLabelLimits(obj, base), tc.path); !strings.Contains(fe.Msg, tc.want) {
				t.Errorf("CheckLabelLimits at %s: %q, want it to contain %q", tc.path, fe.Msg, tc.want)
			}
		})
	}
	ok := autoObjects(1, labels[:MaxStackLabels], autoattachRules(MaxAutoattachRules, labels[:MaxAutoattachRules]...))
	for _, obj := range []any{ok.Integrations[0], ok.Stacks[0]} {
		if err := CheckLabelLimits(obj, "x[0]"); err != nil {
			t.Errorf("CheckLabelLimits(%T) at the limits: %v", obj, err)
		}
	}
}
