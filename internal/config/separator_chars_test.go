package config

import (
	"strings"
	"testing"
)

// TestSeparatorNeedsColonOrSlash: a subject_template literal between two placeholders holds
// ':', or '/' when neither neighbour is {spacePath}. A literal holding only letters, '-' or a
// quote separates nothing, whichever letters they are: "r", "o" and "'" (the letters and the
// quote of the message naming the separators) are refused as "x" is.
func TestSeparatorNeedsColonOrSlash(t *testing.T) {
	for _, a := range SubjectPlaceholders {
		for _, b := range SubjectPlaceholders {
			for _, sep := range []string{"r", "o", "'", "-repo-", "or", "-r-", "ref"} {
				tmpl := "{callerId}:{scope}:{" + a + "}" + sep + "{" + b + "}"
				if _, problems := SplitSubjectTemplate(tmpl); len(problems) == 0 {
					t.Errorf("%q accepted: separator %q holds neither ':' nor '/'", tmpl, sep)
				}
			}
		}
	}
	tmpl := "{spaceId}-repo-{callerId}-ref-{scope}"
	if _, problems := SplitSubjectTemplate(tmpl); len(problems) != 2 ||
		!strings.Contains(problems[0], "must hold ':' or '/'") {
		t.Errorf("%q: problems %q, want one per separator asking for ':' or '/'", tmpl, problems)
	}
}
