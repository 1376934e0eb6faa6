package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// shareTree is root, prod under it, team-a and team-b under prod, and n spaces under team-a
// each with a template of its own.
func shareTree(n int) []config.Space {
	spaces := []config.Space{{ID: "root"}, {ID: "prod", Parent: "root"}, {ID: "team-a", Parent: "prod"}, {ID: "team-b", Parent: "prod"}}
	for i := range n {
		spaces = append(spaces, config.Space{ID: fmt.Sprintf("a%d", i), Parent: "team-a", SubjectTemplate: ownTemplate(i)})
	}
	return spaces
}

// withheld marks a refusal that names no space (see TestTemplateShareFits).
const withheld = "(withheld)"

// ownTemplate is a template no other index gives.
func ownTemplate(i int) string { return fmt.Sprintf("{spacePath}:{callerId}:own-%d:{scope}", i) }

// TestTemplateShareFits: a space's subtree may gain a distinct non-default template only while
// it holds fewer than its share (team-a, two below root: 25), and so may every ancestor's below
// root; the default, a template it holds already, and a subtree holding no more than now are
// never refused. A refusal names the full subtree when it is the space's or its parent's, and
// names no ancestor above them, which the caller may not see.
func TestTemplateShareFits(t *testing.T) {
	full := config.SubtreeTemplateShare(2)
	cases := []struct {
		name    string
		spaces  []config.Space
		put     config.Space
		refused string // the space the refusal names, "" when taken, withheld when it names none
	}{
		{"under its share", shareTree(full - 1), config.Space{ID: "new", Parent: "team-a", SubjectTemplate: ownTemplate(900)}, ""},
		{"at its share", shareTree(full), config.Space{ID: "new", Parent: "team-a", SubjectTemplate: ownTemplate(900)}, "team-a"},
		{"deeper, at the leaf's share", shareTree(full), config.Space{ID: "new", Parent: "a0", SubjectTemplate: ownTemplate(900)}, withheld},
		{"the default", shareTree(full), config.Space{ID: "new", Parent: "team-a"}, ""},
		{"a template the subtree holds", shareTree(full), config.Space{ID: "new", Parent: "team-a", SubjectTemplate: ownTemplate(3)}, ""},
		{"replacing its own template", shareTree(full), config.Space{ID: "a3", Parent: "team-a", SubjectTemplate: ownTemplate(900)}, ""},
		{"the sibling team's subtree", shareTree(full), config.Space{ID: "new", Parent: "team-b", SubjectTemplate: ownTemplate(900)}, ""},
		{"a space of its own under root", shareTree(full), config.Space{ID: "new", Parent: "root", SubjectTemplate: ownTemplate(900)}, ""},
		{"a parent chain that loops", shareTree(full), config.Space{ID: "team-a", Parent: "a0", SubjectTemplate: ownTemplate(900)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := templateShareFits(c.spaces, c.put)
			if c.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if c.refused == withheld {
				var ce *catalog.ChangeError
				if !errors.As(err, &ce) || ce.Field != "subjectTemplate" || strings.Contains(strings.Join(ce.Messages, " "), "team-a") ||
					!strings.Contains(strings.Join(ce.Withheld, " "), `"team-a"`) {
					t.Fatalf("got %v, want a refusal of subjectTemplate naming team-a in the log only", err)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != apierror.CodeInvalidRequest ||
				!strings.Contains(ae.Message, `"subjectTemplate"`) || !strings.Contains(ae.Message, fmt.Sprintf("space %q may hold at most %d", c.refused, full)) {
				t.Fatalf("got %v, want invalid_request naming subjectTemplate, space %q and its share %d", err, c.refused, full)
			}
		})
	}
}

// TestTemplateShareFitsKeepsAnOverfullSubtree: a subtree holding more than its share (from the
// operators' file) takes a change that leaves it with no more than now, and refuses one adding
// to it.
func TestTemplateShareFitsKeepsAnOverfullSubtree(t *testing.T) {
	spaces := shareTree(config.SubtreeTemplateShare(2) + 5)
	if err := templateShareFits(spaces, config.Space{ID: "a1", Parent: "team-a", SubjectTemplate: ownTemplate(901)}); err != nil {
		t.Errorf("replacing a template in an overfull subtree: %v", err)
	}
	if err := templateShareFits(spaces, config.Space{ID: "new", Parent: "team-a", SubjectTemplate: ownTemplate(901)}); err == nil {
		t.Error("adding a template to an overfull subtree was taken")
	}
}
