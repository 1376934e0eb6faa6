package server

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
)

// TestWriteBackEventNamedAndFiledAsTheAdminAPI: the event of a change written back to a
// store that lost it carries the action the admin API records for that change (an API key's
// put is api_key.create, its removal api_key.delete, another kind's put <kind>.put), and is
// filed also under the other spaces the change names (an API key's bound spaces).
// Guards against: writeback_record.go:writeBackAction api_key put named api_key.put
// Guards against: writeback_record.go:writeBackEvent Also dropped
func TestWriteBackEventNamedAndFiledAsTheAdminAPI(t *testing.T) {
	for _, tc := range []struct {
		ch   catalog.WrittenBack
		want string
	}{
		{catalog.WrittenBack{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "ci"}, Also: []string{"prod", "dev"}}, "api_key.create"},
		{catalog.WrittenBack{Ref: catalog.Ref{Kind: catalog.KindAPIKey, ID: "ci"}, Deleted: true, Also: []string{"prod"}}, "api_key.delete"},
		{catalog.WrittenBack{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}, Space: "prod"}, "stack.put"},
	} {
		e := writeBackEvent(catalog.WriteBack{Changes: []catalog.WrittenBack{tc.ch}}, tc.ch, audit.Success, "d")
		if e.Action != tc.want {
			t.Errorf("%v (deleted %v): action %q, want %q", tc.ch.Ref, tc.ch.Deleted, e.Action, tc.want)
		}
		if !slices.Equal(e.Also, tc.ch.Also) {
			t.Errorf("%v: filed also under %v, want %v", tc.ch.Ref, e.Also, tc.ch.Also)
		}
	}
}
