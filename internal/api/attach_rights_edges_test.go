package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/config"
)

// TestStackPutWriteRightsOnlyForNewWriteAttachments: a stack PUT asks the run rights only
// when it brings the stack under a rule attaching it for write that it was not attached by
// before; a rule attaching for read only, or a write attachment the stack holds already, asks
// none.
func TestStackPutWriteRightsOnlyForNewWriteAttachments(t *testing.T) {
	o := writeRightsObjects()
	ro := writeRightsAWS("ro", "prod", "ro")
	ro.Autoattach = []config.Autoattach{{Label: "r", Read: true}}
	wo := writeRightsAWS("wo", "prod", "wo")
	wo.Autoattach = []config.Autoattach{{Label: "w", Write: true}}
	o.Integrations = []config.Integration{ro, wo}
	o.Stacks = []config.Stack{{ID: "held", Space: "team", Labels: []string{"w"}}}
	c := writeRightsCatalog(t, o)
	for _, tc := range []struct {
		name     string
		obj, old any
		want     []string
	}{
		{"created under a read rule", config.Stack{ID: "new", Space: "team", Labels: []string{"r"}}, nil, nil},
		{"relabelled, still under the write rule it was attached by", config.Stack{ID: "held", Space: "team", Labels: []string{"w", "x"}}, o.Stacks[0], nil},
		{"created under the write rule", config.Stack{ID: "new", Space: "team", Labels: []string{"w"}}, nil, []string{"team"}},
	} {
		id := tc.obj.(config.Stack).ID
		if got := stackWriteSpaces(c, id, tc.obj, tc.old); !slices.Equal(got, tc.want) {
			t.Errorf("%s: run rights asked in %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMoveCarriesBindingsOfTheWholeSubtree: a space moved takes along the bindings on every
// space of its subtree, not only those on it: a key bound two levels down with run rights the
// mover lacks where the space goes makes the move a refusal.
func TestMoveCarriesBindingsOfTheWholeSubtree(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces),
		config.Space{ID: "mover", Parent: "team"}, config.Space{ID: "sub", Parent: "mover"}, config.Space{ID: "dest", Parent: "prod"})
	o.APIKeys = append(slices.Clone(o.APIKeys), config.APIKey{ID: "helper", SecretSHA256: strings.Repeat("b", 64),
		Bindings: []config.Binding{{Role: "admin-run", Space: "sub"}}})
	c := writeRightsCatalog(t, o)
	if err := requireNothingCarried(c, access.Principal{KeyID: "half"}, reachMove{from: "mover", to: "dest", carries: true}); err == nil {
		t.Error("moving mover under dest, carrying a binding with run:update on sub that the mover lacks at dest: allowed, want refused")
	}
}

// TestMoveJudgedWhereTheSpaceGoes: what a move carries is weighed against the mover's rights
// where the space goes, not where it is: a mover holding run:update over the space now (through
// an inherited binding) but not at the destination may not carry a key's run:update there.
// Guards against: requireNothingCarried asking Allowed at m.from instead of m.to
// (admin_write.go)
func TestMoveJudgedWhereTheSpaceGoes(t *testing.T) {
	o := writeRightsObjects()
	o.Spaces = append(slices.Clone(o.Spaces), config.Space{ID: "mover", Parent: "team", Inherit: true},
		config.Space{ID: "sub", Parent: "mover", Inherit: true}, config.Space{ID: "dest", Parent: "prod", Inherit: true})
	o.APIKeys = append(slices.Clone(o.APIKeys), config.APIKey{ID: "helper", SecretSHA256: strings.Repeat("b", 64),
		Bindings: []config.Binding{{Role: "admin-run", Space: "sub"}}})
	c := writeRightsCatalog(t, o)
	full := access.Principal{KeyID: "full"}
	if err := c.Access().Allowed(full, config.ActionRunUpdate, "mover"); err != nil {
		t.Fatalf("the mover lacks run:update where the space is now: %v", err)
	}
	if err := requireNothingCarried(c, full, reachMove{from: "mover", to: "dest", carries: true}); err == nil {
		t.Error("moving mover under dest, carrying run:update on sub that the mover holds at mover but not at dest: allowed, want refused")
	}
}

// fixedKeyAuth authenticates every request as one API key.
type fixedKeyAuth struct{ key string }

func (a fixedKeyAuth) authenticate(*http.Request) (access.Principal, error) {
	return access.Principal{KeyID: a.key}, nil
}
func (fixedKeyAuth) recordUnauthenticated(*http.Request, Event, error) {}

// attachFile: root → prod → team-a, team-b (inheriting); an integration in prod; key "here"
// holds space:admin and the run rights on team-a only.
func attachFile() catalog.Objects {
	sum := sha256.Sum256([]byte("here"))
	return catalog.Objects{
		Spaces: []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true},
			{ID: "team-a", Parent: "prod", Inherit: true}, {ID: "team-b", Parent: "prod", Inherit: true}},
		Integrations: []config.Integration{{ID: "aws-p", Space: "prod", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/p"}}},
		Roles:        []config.Role{{ID: "all", Actions: config.Actions}},
		APIKeys:      []config.APIKey{{ID: "here", SecretSHA256: hex.EncodeToString(sum[:]), Bindings: []config.Binding{{Role: "all", Space: "team-a"}}}},
	}
}

// attachPut sends PUT /v1/stacks/{stack}/attachments/{integration} with body to admin.
func attachPut(admin *Admin, stack, integration, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("PUT", "/v1/stacks/"+stack+"/attachments/"+integration, strings.NewReader(body))
	r.SetPathValue("id", stack)
	r.SetPathValue("integration", integration)
	w := httptest.NewRecorder()
	(&attachHandler{admin: admin}).put(w, r)
	return w
}

// twoAttachReplicas returns the catalogs of two replicas sharing one store, on attachFile.
func twoAttachReplicas(t *testing.T) (a, b *catalog.Manager) {
	t.Helper()
	store := catalog.NewMemory()
	replica := func() *catalog.Manager {
		m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: attachFile()})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	return replica(), replica()
}

// TestAttachAuthorizedWhereTheStackIsNow: an attachment is authorized against the catalog
// the change is committed on: a replica that has not yet heard that another moved the stack out
// of the key's reach refuses, rather than attach by the stack's old place.
func TestAttachAuthorizedWhereTheStackIsNow(t *testing.T) {
	ctx := context.Background()
	a, b := twoAttachReplicas(t)
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "app"}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "app", Space: "team-a"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// a moves the stack to team-b; b has not heard of it.
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "app", Space: "team-b"}}); err != nil {
		t.Fatal(err)
	}
	if sp, _ := b.Live().Load().StackSpace("app"); sp != "team-a" {
		t.Fatalf("b sees app in %q already: the test proves nothing", sp)
	}
	admin := NewAdmin(AdminConfig{Catalog: b, Auth: fixedKeyAuth{key: "here"}})
	w := attachPut(admin, "app", "aws-p", `{"read":true}`)
	if w.Code != http.StatusForbidden && w.Code != http.StatusNotFound {
		t.Errorf("attaching to a stack moved out of the key's reach: %d %s, want 403 or 404", w.Code, w.Body)
	}
	if b.Live().Load().Attached("app", "aws-p") || a.Refresh(ctx) == nil && a.Live().Load().Attached("app", "aws-p") {
		t.Error("the attachment was made on a stack the key may no longer administer")
	}
}

// TestAttachBodyNamingAnotherStack: an attachment's body that names another stack or
// integration than its path is refused (400), and nothing is attached.
func TestAttachBodyNamingAnotherStack(t *testing.T) {
	ctx := context.Background()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: attachFile()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"app", "other"} {
		if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: id}, Object: config.Stack{ID: id, Space: "team-a"}}); err != nil {
			t.Fatal(err)
		}
	}
	admin := NewAdmin(AdminConfig{Catalog: m, Auth: fixedKeyAuth{key: "here"}})
	for _, body := range []string{`{"stack":"other","read":true}`, `{"integration":"aws-x","read":true}`} {
		w := attachPut(admin, "app", "aws-p", body)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"invalid_request"`) {
			t.Errorf("body %s on /v1/stacks/app/attachments/aws-p: %d %s, want 400 invalid_request", body, w.Code, w.Body)
		}
	}
	if m.Live().Load().Attached("app", "aws-p") {
		t.Error("an attachment was made from a body naming another object")
	}
}

// TestAttachLeftOutTakesRootAdmin: a stored attachment the catalog leaves out (stored
// before a rule that refuses it) is replaced only by a key holding every action on root: the
// stack's own administrators may not repair the store, and what they send is not applied.
func TestAttachLeftOutTakesRootAdmin(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	catalogtest.Seed(t, store, config.Stack{ID: "app", Space: "team-a"}, config.Attachment{Stack: "app", Integration: "aws-p"})
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: attachFile()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Live().Load().Stack("app"); !ok || m.Live().Load().Attached("app", "aws-p") {
		t.Fatal("the stored attachment with neither read nor write is in force, or its stack is not: the test proves nothing")
	}
	admin := NewAdmin(AdminConfig{Catalog: m, Auth: fixedKeyAuth{key: "here"}})
	w := attachPut(admin, "app", "aws-p", `{"read":true}`)
	if w.Code != http.StatusForbidden {
		t.Errorf("a key with space:admin on team-a alone replacing a left-out attachment: %d %s, want 403", w.Code, w.Body)
	}
	if m.Live().Load().Attached("app", "aws-p") {
		t.Error("the left-out attachment was replaced by a key that may not repair the store")
	}
}

// TestAttachIfMatch: an attachment's PUT or DELETE with an If-Match naming another version
// than the attachment's is refused with 412 and changes nothing; If-None-Match: * on an
// attachment that exists too.
func TestAttachIfMatch(t *testing.T) {
	ctx := context.Background()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: attachFile()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"}, Object: config.Stack{ID: "app", Space: "team-a"}}); err != nil {
		t.Fatal(err)
	}
	admin := NewAdmin(AdminConfig{Catalog: m, Auth: fixedKeyAuth{key: "here"}})
	if w := attachPut(admin, "app", "aws-p", `{"read":true}`); w.Code != http.StatusCreated {
		t.Fatalf("attach: %d %s", w.Code, w.Body)
	}
	send := func(method, header, value, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/v1/stacks/app/attachments/aws-p", strings.NewReader(body))
		r.Header.Set(header, value)
		r.SetPathValue("id", "app")
		r.SetPathValue("integration", "aws-p")
		w := httptest.NewRecorder()
		h := &attachHandler{admin: admin}
		if method == "PUT" {
			h.put(w, r)
		} else {
			h.delete(w, r)
		}
		return w
	}
	for _, tc := range []struct{ method, header, value, body string }{
		{"PUT", "If-Match", `"7"`, `{"read":true,"write":true}`},
		{"PUT", "If-None-Match", "*", `{"read":true,"write":true}`},
		{"DELETE", "If-Match", `"7"`, ""},
	} {
		if w := send(tc.method, tc.header, tc.value, tc.body); w.Code != http.StatusPreconditionFailed {
			t.Errorf("%s with %s: %s on an attachment at version 1: %d %s, want 412", tc.method, tc.header, tc.value, w.Code, w.Body)
		}
	}
	if meta, ok := m.Live().Load().Meta(catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("app", "aws-p")}); !ok || meta.Version != 1 {
		t.Errorf("the attachment after refused changes: version %d (exists %v), want version 1", meta.Version, ok)
	}
}
