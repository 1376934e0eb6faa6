package catalog_test

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

func TestFileDiff(t *testing.T) {
	before := file()
	after := file()
	after.Stacks = append(after.Stacks, config.Stack{ID: "dns", Space: "prod"})
	after.Roles = nil
	after.Integrations = []config.Integration{awsIn("aws-root", "prod")}
	got := catalog.FileDiff(before, after)
	want := []string{"added stack dns", "changed integration aws-root", "removed role admin"}
	if !slices.Equal(got, want) {
		t.Errorf("FileDiff = %q, want %q", got, want)
	}
	if got := catalog.FileDiff(before, file()); len(got) != 0 {
		t.Errorf("FileDiff of the same objects = %q", got)
	}
}
