package claims

import (
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// separatorConfig is a file whose two spaces share one subject template, each holding one
// stack: arguments template, space A, space B, stack A, stack B.
const separatorConfig = `issuer: https://broker.example.com
spaces:
  - id: root
  - {id: %[2]s, parent: root, subject_template: %[1]q}
  - {id: %[3]s, parent: root, subject_template: %[1]q}
stacks:
  - {id: %[4]s, space: %[2]s}
  - {id: %[5]s, space: %[3]s}
`

// separatorCase is a template and two (space, stack, run) combinations it renders alike.
type separatorCase struct {
	name, template string
	spaceA, stackA string
	spaceB, stackB string
	runA, runB     runs.Run
}

// renderedSub renders subj's `sub` with s, failing the test for an unknown space.
func renderedSub(t *testing.T, s *Spaces, subj Subject) string {
	t.Helper()
	sub, ok := s.Subject(subj)
	if !ok {
		t.Fatalf("space %s unknown", subj.SpaceID)
	}
	return sub
}

// TestSeparatorRuleKeepsSubsApart: a subject_template literal between two placeholders holds
// ':' (or '/'), and a file whose template breaks it is refused, so that no two stacks, and
// never a read run and a write run, are given one `sub`: with "-r-", "-o-" or "-repo-" between
// placeholders, a read token of one stack would carry the very sub of another stack's write
// token.
func TestSeparatorRuleKeepsSubsApart(t *testing.T) {
	read := runs.Run{ID: "01JTESTRUN0000000000000000", RunType: runs.Proposed,
		Phase: runs.Planning, Scope: runs.Read}
	write := runs.Run{ID: "01JTESTRUN0000000000000001", RunType: runs.Tracked,
		Phase: runs.Applying, Scope: runs.Write}
	for _, tc := range []separatorCase{
		{name: "read sub equals another stack's write sub", template: "{spaceId}-r-{scope}-o-{callerId}",
			spaceA: "q", stackA: "x-r-write-o-z", runA: read,
			spaceB: "q-r-read-o-x", stackB: "z", runB: write},
		{name: "two stacks share a write sub", template: "proj-{spaceId}-repo-{callerId}-ref-{scope}",
			spaceA: "a", stackA: "b-repo-c", runA: write,
			spaceB: "a-repo-b", stackB: "c", runB: write},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := fmt.Sprintf(separatorConfig, tc.template,
				tc.spaceA, tc.spaceB, tc.stackA, tc.stackB)
			cfg, err := config.Parse("separators.yaml", []byte(file))
			if err != nil {
				return // the template is refused: the rule holds
			}
			s, err := NewSpaces(cfg)
			if err != nil {
				t.Fatal(err)
			}
			a := renderedSub(t, s, Subject{SpaceID: tc.spaceA, CallerType: CallerTypeStack,
				CallerID: tc.stackA, Run: tc.runA})
			b := renderedSub(t, s, Subject{SpaceID: tc.spaceB, CallerType: CallerTypeStack,
				CallerID: tc.stackB, Run: tc.runB})
			if a == b {
				t.Errorf("template %q accepted, and stack %s (%s) and stack %s (%s) both get sub %q",
					tc.template, tc.stackA, tc.runA.Scope, tc.stackB, tc.runB.Scope, a)
			}
		})
	}
}
