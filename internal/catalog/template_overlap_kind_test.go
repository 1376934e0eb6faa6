package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestTemplateOverlapRefusedAsInvalidWithoutQuotingTheOther: a space put through the API whose
// subject template overlaps another space's is refused as invalid on its own subjectTemplate field,
// whichever of the two the validation reports the overlap on (the put space after the other in the
// list, or before it), and the refusal quotes neither the other space's template nor its id: those
// go to Withheld only.
// Guards against: classify counts an overlap reported on the other space as another object's
// problem (change.go:classify)
// Guards against: ChangeError.tell appends the overlap's own message to Messages (change.go:tell)
func TestTemplateOverlapRefusedAsInvalidWithoutQuotingTheOther(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// earlier is created first, later second; put is then the refused put.
		earlier, later, put config.Space
	}{
		{"the put space comes after the other",
			config.Space{ID: "team-a", Parent: "prod", SubjectTemplate: heldOld},
			config.Space{ID: "team-b", Parent: "prod", SubjectTemplate: "team-b:{callerId}:{scope}"},
			config.Space{ID: "team-b", Parent: "prod", SubjectTemplate: heldTaker}},
		{"the put space comes before the other",
			config.Space{ID: "team-a", Parent: "prod", SubjectTemplate: "team-a:{callerId}:{scope}"},
			config.Space{ID: "team-b", Parent: "prod", SubjectTemplate: heldOld},
			config.Space{ID: "team-a", Parent: "prod", SubjectTemplate: heldTaker}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, catalog.NewMemory())
			mustApply(t, m, spacePut(tc.earlier))
			mustApply(t, m, spacePut(tc.later))
			_, err := m.Apply(ctx, spacePut(tc.put))
			var ce *catalog.ChangeError
			if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrInvalid) || ce.Field != "subjectTemplate" {
				t.Fatalf("an overlapping template: %v, want refused as invalid on subjectTemplate", err)
			}
			if !slices.Equal(ce.Messages, []string{config.TemplateOverlapMessage}) {
				t.Errorf("the refusal tells %q, want only the overlap message", ce.Messages)
			}
			if strings.Contains(ce.Error(), heldOld) || !strings.Contains(withheld(err), heldOld) {
				t.Errorf("the refusal quotes the other space's template, or the withheld detail does not: %q (withheld %q)", ce.Error(), withheld(err))
			}
		})
	}
}
