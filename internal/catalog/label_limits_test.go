package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestLabelLimitsCheckedOnTheChange: an integration stored by an older build with 2,000
// autoattach rules on one label still loads, makes one attachment per stack carrying the label,
// and lets every other change through; put through the API (again as it is, or anew) it is
// refused at the field, as is a stack carrying more than config.MaxStackLabels labels.
func TestLabelLimitsCheckedOnTheChange(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	rules := make([]config.Autoattach, 2000)
	for j := range rules {
		rules[j] = config.Autoattach{Label: "x", Read: true}
	}
	old := awsIn("old", "prod")
	old.Autoattach = rules
	objects := []any{old}
	for i := range 100 {
		objects = append(objects, config.Stack{ID: fmt.Sprintf("s-%d", i), Space: "prod", Labels: []string{"x"}})
	}
	var changes []catalog.Change
	for _, obj := range objects {
		body, err := config.EncodeJSON(obj)
		if err != nil {
			t.Fatal(err)
		}
		ref := catalog.Ref{Kind: catalog.KindIntegration, ID: old.ID}
		if st, ok := obj.(config.Stack); ok {
			ref = catalog.Ref{Kind: catalog.KindStack, ID: st.ID}
		}
		changes = append(changes, catalog.Change{Record: catalog.Record{Ref: ref, Version: 1, Created: 1, Body: body}})
	}
	if _, err := store.Commit(ctx, catalog.Head{}, changes); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, store)
	c := m.Live().Load()
	if _, ok := c.Integration("old"); !ok {
		t.Fatal("the integration stored before the rule is not in force")
	}
	for _, st := range []string{"s-0", "s-99"} {
		if at := c.Attachments(st); len(at) != 1 || !at[0].Read || at[0].Source != "autoattach:x" {
			t.Errorf("%s has %d attachments, want one, read, autoattach:x", st, len(at))
		}
	}
	if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "dns", Space: "prod"})); err != nil {
		t.Fatalf("a change beside an integration stored before the label rules: %v", err)
	}

	labels := make([]string, config.MaxStackLabels+1)
	for j := range labels {
		labels[j] = fmt.Sprintf("l-%d", j)
	}
	for name, tc := range map[string]struct {
		mu    catalog.Mutation
		field string
	}{
		"integration put again as it is": {catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "old"}, Object: old}, "autoattach"},
		"integration repeating a label": {catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "new"},
			Object: withRules(awsIn("new", "prod"), config.Autoattach{Label: "y", Read: true}, config.Autoattach{Label: "y", Write: true})}, "autoattach[1].label"},
		"stack with too many labels": {stackPut(config.Stack{ID: "many", Space: "prod", Labels: labels}), "labels"},
	} {
		_, err := m.Apply(ctx, tc.mu)
		var ce *catalog.ChangeError
		if !errors.As(err, &ce) || !errors.Is(ce.Kind, catalog.ErrInvalid) || ce.Field != tc.field {
			t.Errorf("%s: %v (%+v), want invalid at %s", name, err, ce, tc.field)
		}
	}
}

// withRules is in with rules as its autoattach rules.
func withRules(in config.Integration, rules ...config.Autoattach) config.Integration {
	in.Autoattach = rules
	return in
}
