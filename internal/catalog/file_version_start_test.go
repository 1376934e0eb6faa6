package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestStartRaisesTheVersionOfWhatChanged: a file object edited while no replica ran on the file
// gets, at the next start, the version a reload of the same edit gives it (contract §8: the
// version grows with each change), once: a further start on the same file raises nothing, and
// the objects that did not change keep theirs.
func TestStartRaisesTheVersionOfWhatChanged(t *testing.T) {
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}
	role := catalog.Ref{Kind: catalog.KindRole, ID: "admin"}
	space := catalog.Ref{Kind: catalog.KindSpace, ID: "prod-eu"}
	integration := catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-root"}
	attachment := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("vpc", "aws-root")}
	key := catalog.Ref{Kind: catalog.KindAPIKey, ID: "ops"}
	same := func(o catalog.Objects) catalog.Objects { return o }
	labelled := func(o catalog.Objects) catalog.Objects {
		o.Stacks = slices.Clone(o.Stacks)
		o.Stacks[0].Labels = []string{"l"}
		return o
	}
	for _, tc := range []struct {
		name string
		// files are the files of each start, one after another.
		files []func(catalog.Objects) catalog.Objects
		// want is the version of each object after the last start; an object not named is at 1.
		want map[catalog.Ref]int64
	}{
		{name: "the same file", files: []func(catalog.Objects) catalog.Objects{same, same}},
		{name: "a stack's labels", files: []func(catalog.Objects) catalog.Objects{same, labelled},
			want: map[catalog.Ref]int64{stack: 2}},
		{name: "a stack's labels, started twice on it", files: []func(catalog.Objects) catalog.Objects{same, labelled, labelled},
			want: map[catalog.Ref]int64{stack: 2}},
		{name: "a stack's labels, then back", files: []func(catalog.Objects) catalog.Objects{same, labelled, same},
			want: map[catalog.Ref]int64{stack: 3}},
		{name: "a role's actions", want: map[catalog.Ref]int64{role: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.Roles = slices.Clone(o.Roles)
			o.Roles[0].Actions = append(slices.Clone(o.Roles[0].Actions), config.ActionRunRead)
			return o
		}}},
		{name: "a space's inherit", want: map[catalog.Ref]int64{space: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.Spaces = slices.Clone(o.Spaces)
			o.Spaces[2].Inherit = false
			return o
		}}},
		{name: "an integration's role", want: map[catalog.Ref]int64{integration: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.Integrations = slices.Clone(o.Integrations)
			aws := *o.Integrations[0].AWS
			aws.RoleARN += "-2"
			o.Integrations[0].AWS = &aws
			return o
		}}},
		{name: "an attachment's write", want: map[catalog.Ref]int64{attachment: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.Attachments = slices.Clone(o.Attachments)
			o.Attachments[0].Write = true
			return o
		}}},
		{name: "an API key's bindings", want: map[catalog.Ref]int64{key: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.APIKeys = slices.Clone(o.APIKeys)
			o.APIKeys[0].Bindings = []config.Binding{{Role: "admin", Space: "prod-eu"}}
			return o
		}}},
		// A secret replaced leaves (a tombstone raises the version): no second raise.
		{name: "an API key's secret", want: map[catalog.Ref]int64{key: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o.APIKeys = slices.Clone(o.APIKeys)
			o.APIKeys[0].SecretSHA256 = hashHex("ops-secret-replaced")
			return o
		}}},
		// A stack moved leaves its place (a tombstone raises the version): no second raise.
		{name: "a stack moved and labelled", want: map[catalog.Ref]int64{stack: 2}, files: []func(catalog.Objects) catalog.Objects{same, func(o catalog.Objects) catalog.Objects {
			o = labelled(o)
			o.Stacks[0].Space = "prod-eu"
			return o
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := catalog.NewMemory()
			var m *catalog.Manager
			for i, f := range tc.files {
				var err error
				if m, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f(file())}); err != nil {
					t.Fatalf("start %d: %v", i, err)
				}
			}
			c := m.Live().Load()
			for _, r := range []catalog.Ref{stack, role, space, integration, attachment, key} {
				want := max(1, tc.want[r])
				if meta, ok := c.Meta(r); !ok || meta.Version != want {
					t.Errorf("%s is at version %d (in force: %v), want %d", r, meta.Version, ok, want)
				}
			}
			// A reload of the same files, one after another, gives the same versions.
			reloaded, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: tc.files[0](file())})
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range tc.files[1:] {
				if _, err := reloaded.Reload(ctx, f(file())); err != nil {
					t.Fatalf("reload %d: %v", i+1, err)
				}
			}
			for r := range tc.want {
				got, _ := c.Meta(r)
				want, _ := reloaded.Live().Load().Meta(r)
				if got.Version != want.Version {
					t.Errorf("%s is at version %d after the starts, %d after the same reloads", r, got.Version, want.Version)
				}
			}
		})
	}
}

// TestStartOnAnEditedFileOnceAcrossReplicas: two replicas starting one after the other on the
// file edited while none ran raise the edited object's version once: the first records the new
// file as seen.
func TestStartOnAnEditedFileOnceAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()}); err != nil {
		t.Fatal(err)
	}
	edited := file()
	edited.Stacks = []config.Stack{{ID: "vpc", Space: "prod", Labels: []string{"l"}}}
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := store.Head(ctx)
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: edited})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := store.Head(ctx); after != head {
		t.Errorf("the second start on the edited file committed: %+v, then %+v", head, after)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}
	for name, m := range map[string]*catalog.Manager{"first": a, "second": b} {
		if meta, _ := m.Live().Load().Meta(stack); meta.Version != 2 {
			t.Errorf("the %s replica has stack vpc at version %d, want 2", name, meta.Version)
		}
	}
}
