package trust

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestShellWordQuotesWhiteSpace pins that a value holding a space, tab or newline is
// quoted into one word: unquoted, the shell would split it into several arguments of the
// vault command.
// Guards against: space added to plainWord in vault_command.go:plainWord
func TestShellWordQuotesWhiteSpace(t *testing.T) {
	for in, want := range map[string]string{
		"a b":  "'a b'",
		"a\tb": "'a\tb'",
		"a\nb": "'a\nb'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLeftOutNotesNameOnlyTheReadScope pins that a stack attached for read only, left out
// of a shared role's trust, is noted for read alone, never for a write scope it lacks.
// Guards against: write-scope skip dropped in shared.go:sharing
func TestLeftOutNotesNameOnlyTheReadScope(t *testing.T) {
	cfg := sharedConfig(t)
	cfg.Spaces = append(cfg.Spaces, config.Space{ID: "base", Parent: "root", Inherit: true})
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: "evil", Space: "base"})
	cfg.Integrations = append(cfg.Integrations,
		config.Integration{ID: "aws-evil", Space: "base", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/shared"}})
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: "evil", Integration: "aws-evil", Read: true})
	cfg.ApplyObjectDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	_, notes, err := RenderNotes(cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	var evil []string
	for _, n := range notes {
		if strings.HasPrefix(n, "stack evil ") {
			evil = append(evil, n)
		}
	}
	if len(evil) != 1 || !strings.HasPrefix(evil[0], "stack evil (read) through integration aws-evil") {
		t.Errorf("notes on stack evil (attached for read only): %q", evil)
	}
}

// TestEachStopsWhenTheLoopBreaks pins that Each honours a loop that breaks: it yields no
// further attachment (doing so would panic the range-over-func loop).
// Guards against: yield's result ignored in beside.go:Each
func TestEachStopsWhenTheLoopBreaks(t *testing.T) {
	atts := []config.EffectiveAttachment{{Attachment: config.Attachment{Stack: "a"}}, {Attachment: config.Attachment{Stack: "b"}}, {Attachment: config.Attachment{Stack: "c"}}}
	n := 0
	for range Each(atts) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("looped %d times, want 1", n)
	}
}
