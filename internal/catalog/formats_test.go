package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

const tenantGUID = "0f0e0d0c-0b0a-0908-0706-050403020100"

// TestIntegrationFormatsCheckedOnTheChange: an integration put through the API with a client
// id that is no GUID is refused at that field, while one stored before the rule existed lets
// every other change through (deleting a leaked key above all) and is refused only when put
// again as it is.
func TestIntegrationFormatsCheckedOnTheChange(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	bad := config.Integration{ID: "old", Space: "prod", Azure: &config.Azure{TenantID: tenantGUID, ClientID: "read-app"}}
	body, err := config.EncodeJSON(bad)
	if err != nil {
		t.Fatal(err)
	}
	ref := catalog.Ref{Kind: catalog.KindIntegration, ID: "old"}
	if _, err := store.Commit(ctx, catalog.Head{}, []catalog.Change{{Record: catalog.Record{Ref: ref, Version: 1, Created: 1, Body: body}}}); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, store)
	if _, ok := m.Live().Load().Integration("old"); !ok {
		t.Fatal("the integration stored before the rule is not in force")
	}
	if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "dns", Space: "prod"})); err != nil {
		t.Fatalf("a change beside an integration stored before the format rules: %v", err)
	}
	for name, in := range map[string]config.Integration{
		"put again as it is": bad,
		"created":            {ID: "new", Space: "prod", Azure: &config.Azure{TenantID: tenantGUID, ClientID: "write-app"}},
	} {
		_, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: in.ID}, Object: in})
		var ce *catalog.ChangeError
		if !errors.As(err, &ce) || !errors.Is(ce.Kind, catalog.ErrInvalid) || ce.Field != "azure.clientId" {
			t.Errorf("%s with client id %q: %v (%+v), want invalid at azure.clientId", name, in.Azure.ClientID, err, ce)
		}
	}
}
