package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestChangeByAKeyDeletedMeanwhile pins that a change authorized on a replica that has not
// yet heard that its API key was deleted is refused with 401 unauthenticated once checked
// against the catalog it would be committed on, and not applied.
// Guards against: admin_kinds.go:authorizeChange drops the Current (key still valid) check
func TestChangeByAKeyDeletedMeanwhile(t *testing.T) {
	ctx := context.Background()
	a, b := twoAttachReplicas(t)
	keyRef := catalog.Ref{Kind: catalog.KindAPIKey, ID: "gone"}
	for _, mu := range []catalog.Mutation{
		{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"}, Object: config.Stack{ID: "app", Space: "team-a"}},
		{Ref: keyRef, Object: adminTestKey("gone", config.Binding{Role: "all", Space: "team-a"})},
	} {
		if _, err := a.Apply(ctx, mu); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: keyRef}); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Live().Load().APIKey("gone"); !ok {
		t.Fatal("b has heard of the deletion already: the test proves nothing")
	}
	// b still authenticates the key's secret, as a replica that has not heard of the deletion.
	r := httptest.NewRequest(http.MethodPut, "/v1/stacks/app/attachments/aws-p", strings.NewReader(`{"read":true}`))
	r.Header.Set("Authorization", "Bearer gone")
	r.SetPathValue("id", "app")
	r.SetPathValue("integration", "aws-p")
	w := httptest.NewRecorder()
	(&attachHandler{admin: NewAdmin(AdminConfig{Catalog: b, Auth: secretAuth{m: b}})}).put(w, r)
	if w.Code != http.StatusUnauthorized || envelopeCode(w) != "unauthenticated" {
		t.Errorf("attaching with a key deleted meanwhile: %d %s, want 401 unauthenticated", w.Code, w.Body)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Live().Load().Attached("app", "aws-p") {
		t.Error("the attachment was made by a key deleted before it was committed")
	}
}
