package trust

import (
	"testing"

	"github.com/brokerhq/broker/internal/config"
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
