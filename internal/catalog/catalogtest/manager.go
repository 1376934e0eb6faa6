package catalogtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// Replicas returns n stores over one fresh, empty backing store, as n replicas would each open
// it (for Redis: n clients sharing one key prefix). It may register cleanups on t.
type Replicas func(t *testing.T, n int) []catalog.Store

// converge is how soon a change committed on one replica must be in force on every other
// replica sharing its store.
const converge = time.Second

// RunManager runs the contract of catalog.Manager over stores from newReplicas: creating,
// replacing with and without If-Match, deleting, in-use refusals, restarts (on the same file and
// on a changed one), replicas converging (with and without change notices) and concurrent
// conditional changes of one object.
func RunManager(t *testing.T, newReplicas Replicas) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newReplicas Replicas)
	}{
		{"CreateReplaceIfMatch", createReplace},
		{"Delete", deleteObject},
		{"Refusals", refusals},
		{"InUse", inUse},
		{"SurvivesRestart", survivesRestart},
		{"RestartOnAChangedFile", restartOnAChangedFile},
		{"ReplicaAppliesOnNewest", replicaAppliesOnNewest},
		{"ConvergesOnNotice", convergesOnNotice},
		{"ConvergesWithoutNotices", convergesWithoutNotices},
		{"ConcurrentConditionalPuts", concurrentConditionalPuts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newReplicas) })
	}
}

// fileObjects: root → prod (inherits) → prod-eu; a stack and an attached integration of the
// file; a role and a key of the file.
func fileObjects() catalog.Objects {
	sum := sha256.Sum256([]byte("ops-secret"))
	return catalog.Objects{
		Spaces: []config.Space{
			{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}, {ID: "prod-eu", Parent: "prod", Inherit: true},
		},
		Stacks:       []config.Stack{{ID: "vpc", Space: "prod"}},
		Integrations: []config.Integration{awsIn("aws-root", "root")},
		Attachments:  []config.Attachment{{Stack: "vpc", Integration: "aws-root", Read: true}},
		Roles:        []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin, config.ActionRunCreate}}},
		APIKeys: []config.APIKey{{ID: "ops", SecretSHA256: hex.EncodeToString(sum[:]),
			Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}},
	}
}

func awsIn(id, space string) config.Integration {
	return config.Integration{ID: id, Space: space, AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/" + id}}
}

func newManager(t *testing.T, s catalog.Store) *catalog.Manager {
	t.Helper()
	m, err := catalog.NewManager(ctx(t), catalog.ManagerConfig{Store: s, File: fileObjects()})
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

func ref(kind catalog.Kind, id string) catalog.Ref { return catalog.Ref{Kind: kind, ID: id} }

// putOf is the mutation putting obj, conditional on version ifMatch when it is not zero.
func putOf(t *testing.T, obj any, ifMatch int64) catalog.Mutation {
	t.Helper()
	r, err := catalog.RefOf(obj)
	if err != nil {
		t.Fatal(err)
	}
	return catalog.Mutation{Ref: r, Object: obj, IfMatch: ifMatch}
}

func deleteOf(kind catalog.Kind, id string, ifMatch int64) catalog.Mutation {
	return catalog.Mutation{Ref: ref(kind, id), IfMatch: ifMatch}
}

// apply applies mu and fails the test on a refusal.
func apply(t *testing.T, m *catalog.Manager, mu catalog.Mutation) catalog.Result {
	t.Helper()
	res, err := m.Apply(ctx(t), mu)
	if err != nil {
		t.Fatalf("Apply %s: %v", mu.Ref, err)
	}
	return res
}

// refusal is the refusal of a mutation that a test expects.
type refusal struct {
	// kind is the error the refusal wraps, such as catalog.ErrConflict.
	kind error
	// field is the field the refusal names ("" for none), or "-" to accept any.
	field string
	// msg is a part of the refusal's message.
	msg string
}

// refused applies mu and checks it is refused as want says.
func refused(t *testing.T, m *catalog.Manager, mu catalog.Mutation, want refusal) {
	t.Helper()
	_, err := m.Apply(ctx(t), mu)
	var ce *catalog.ChangeError
	if !errors.Is(err, want.kind) || !errors.As(err, &ce) {
		t.Fatalf("Apply %s = %v, want %v", mu.Ref, err, want.kind)
	}
	if (want.field != "-" && ce.Field != want.field) || !strings.Contains(ce.Error(), want.msg) {
		t.Errorf("Apply %s refused with field %q, %q; want field %q and %q", mu.Ref, ce.Field, ce.Error(), want.field, want.msg)
	}
}

// versionOf is the version of r in m's catalog in force, 0 when absent.
func versionOf(m *catalog.Manager, r catalog.Ref) int64 {
	meta, _ := m.Live().Load().Meta(r)
	return meta.Version
}

func createReplace(t *testing.T, newReplicas Replicas) {
	m := newManager(t, newReplicas(t, 1)[0])
	team := ref(catalog.KindSpace, "team")
	res := apply(t, m, putOf(t, config.Space{ID: "team", Parent: "prod", Inherit: true}, 0))
	if !res.Created || res.Version != 1 || res.Before != nil {
		t.Fatalf("create = %+v", res)
	}
	if s, ok := m.Live().Load().Space("team"); !ok || !s.Inherit {
		t.Fatal("the new space is not in force on its replica at once")
	}
	if meta, _ := m.Live().Load().Meta(team); meta.ManagedBy != catalog.ManagedByAPI || meta.Version != 1 || meta.Created.IsZero() {
		t.Errorf("meta after create = %+v", meta)
	}
	// Without If-Match a PUT replaces whatever version is there.
	res = apply(t, m, putOf(t, config.Space{ID: "team", Parent: "prod"}, 0))
	if res.Created || res.Version != 2 || !res.Before.(config.Space).Inherit {
		t.Fatalf("unconditional replace = %+v", res)
	}
	// With the current version it replaces too.
	res = apply(t, m, putOf(t, config.Space{ID: "team", Parent: "prod", Labels: []string{"eu"}}, 2))
	if res.Created || res.Version != 3 {
		t.Fatalf("conditional replace = %+v", res)
	}
	// With an old version it is refused and changes nothing.
	refused(t, m, putOf(t, config.Space{ID: "team", Parent: "root"}, 2), refusal{catalog.ErrPrecondition, "", "at version 3, not 2"})
	if s, _ := m.Live().Load().Space("team"); s.Parent != "prod" || versionOf(m, team) != 3 {
		t.Errorf("a refused PUT changed the space: %+v, version %d", s, versionOf(m, team))
	}
	// If-Match on an object that does not exist matches no version.
	refused(t, m, putOf(t, config.Space{ID: "other", Parent: "prod"}, 1), refusal{catalog.ErrPrecondition, "", `space "other" does not exist`})
	if _, ok := m.Live().Load().Space("other"); ok {
		t.Error("a PUT refused for its If-Match created the object")
	}
}

func deleteObject(t *testing.T, newReplicas Replicas) {
	m := newManager(t, newReplicas(t, 1)[0])
	apply(t, m, putOf(t, config.Stack{ID: "dns", Space: "prod"}, 0))
	apply(t, m, putOf(t, config.Stack{ID: "dns", Space: "prod", Labels: []string{"net"}}, 0))
	refused(t, m, deleteOf(catalog.KindStack, "dns", 1), refusal{catalog.ErrPrecondition, "", "at version 2, not 1"})
	if _, ok := m.Live().Load().Stack("dns"); !ok {
		t.Fatal("a DELETE refused for its If-Match deleted the stack")
	}
	res := apply(t, m, deleteOf(catalog.KindStack, "dns", 2))
	if len(res.Deleted) != 1 || res.Deleted[0] != ref(catalog.KindStack, "dns") {
		t.Errorf("Deleted = %v", res.Deleted)
	}
	if _, ok := m.Live().Load().Stack("dns"); ok {
		t.Error("the deleted stack is still in force")
	}
	refused(t, m, deleteOf(catalog.KindStack, "dns", 0), refusal{catalog.ErrNotFound, "", `stack "dns" does not exist`})
	refused(t, m, deleteOf(catalog.KindStack, "vpc", 0), refusal{catalog.ErrManagedByConfig, "", `stack "vpc" belongs to the configuration file`})
	// A re-created object goes on from the version it was deleted at (2, deleted at 3), so an
	// If-Match naming the old object never matches the new one; and while there is none, no
	// If-Match matches, not even the deletion's version.
	refused(t, m, putOf(t, config.Stack{ID: "dns", Space: "prod"}, 1), refusal{catalog.ErrPrecondition, "", `stack "dns" does not exist`})
	refused(t, m, putOf(t, config.Stack{ID: "dns", Space: "prod"}, 3), refusal{catalog.ErrPrecondition, "", `stack "dns" does not exist`})
	if res := apply(t, m, putOf(t, config.Stack{ID: "dns", Space: "prod"}, 0)); !res.Created || res.Version != 4 {
		t.Errorf("re-create = %+v, want created at version 4", res)
	}
}

func refusals(t *testing.T, newReplicas Replicas) {
	m := newManager(t, newReplicas(t, 1)[0])
	apply(t, m, putOf(t, config.Stack{ID: "app", Space: "prod"}, 0))
	before := m.Live().Load().Revision()
	tests := []struct {
		name string
		mu   catalog.Mutation
		want refusal
	}{
		{"file object", putOf(t, config.Stack{ID: "vpc", Space: "prod"}, 0), refusal{catalog.ErrManagedByConfig, "", "configuration file"}},
		{"file role", putOf(t, config.Role{ID: "admin", Actions: []string{"run:read"}}, 0), refusal{catalog.ErrManagedByConfig, "", "configuration file"}},
		{"bad id", putOf(t, config.Stack{ID: "Bad_Id", Space: "prod"}, 0), refusal{catalog.ErrInvalid, "id", `"Bad_Id"`}},
		{"bad template", putOf(t, config.Space{ID: "x", Parent: "root", SubjectTemplate: "{nope}"}, 0), refusal{catalog.ErrInvalid, "subjectTemplate", "unknown placeholder {nope}"}},
		{"missing parent", putOf(t, config.Space{ID: "x", Parent: "gone"}, 0), refusal{catalog.ErrNotFound, "parent", `space "gone" does not exist`}},
		{"missing space", putOf(t, config.Stack{ID: "s", Space: "gone"}, 0), refusal{catalog.ErrNotFound, "space", `space "gone" does not exist`}},
		{"bad label", putOf(t, config.Stack{ID: "s", Space: "prod", Labels: []string{"A"}}, 0), refusal{catalog.ErrInvalid, "labels[0]", `label "A" must match`}},
		{"bad action", putOf(t, config.Role{ID: "r", Actions: []string{"run:fly"}}, 0), refusal{catalog.ErrInvalid, "actions[0]", `unknown action "run:fly"`}},
		{"attachment of nothing", putOf(t, config.Attachment{Stack: "app", Integration: "aws-root"}, 0), refusal{catalog.ErrInvalid, "", "must set read: true, write: true or both"}},
		{"attachment to a missing stack", putOf(t, config.Attachment{Stack: "gone", Integration: "aws-root", Read: true}, 0), refusal{catalog.ErrNotFound, "stack", `stack "gone" does not exist`}},
		{"path and body disagree", catalog.Mutation{Ref: ref(catalog.KindStack, "a"), Object: config.Stack{ID: "b", Space: "prod"}}, refusal{catalog.ErrInvalid, "", "the body names stack b, the path stack a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { refused(t, m, tt.mu, tt.want) })
	}
	if after := m.Live().Load().Revision(); after != before {
		t.Errorf("refused changes moved the revision from %d to %d", before, after)
	}
}

func inUse(t *testing.T, newReplicas Replicas) {
	m := newManager(t, newReplicas(t, 1)[0])
	apply(t, m, putOf(t, config.Space{ID: "team", Parent: "prod", Inherit: true}, 0))
	apply(t, m, putOf(t, config.Space{ID: "team-sub", Parent: "team"}, 0))
	apply(t, m, putOf(t, config.Space{ID: "tools", Parent: "prod"}, 0))
	apply(t, m, putOf(t, awsIn("aws-tools", "tools"), 0))
	apply(t, m, putOf(t, config.Stack{ID: "dns", Space: "team", Labels: []string{"net"}}, 0))
	apply(t, m, putOf(t, awsIn("aws-w1", "team"), 0))
	apply(t, m, putOf(t, config.Attachment{Stack: "dns", Integration: "aws-w1", Write: true}, 0))
	apply(t, m, putOf(t, config.Role{ID: "runner", Actions: []string{config.ActionRunCreate}}, 0))
	apply(t, m, putOf(t, config.APIKey{ID: "ci", SecretSHA256: strings.Repeat("ab", 32),
		Bindings: []config.Binding{{Role: "runner", Space: "team"}}}, 0))

	// A space holding a space, a stack, an integration or a key's binding is in use.
	refused(t, m, deleteOf(catalog.KindSpace, "team", 0), refusal{catalog.ErrConflict, "-", `space "team-sub"`})
	refused(t, m, deleteOf(catalog.KindSpace, "team", 0), refusal{catalog.ErrConflict, "-", `stack "dns"`})
	refused(t, m, deleteOf(catalog.KindSpace, "tools", 0), refusal{catalog.ErrConflict, "-", `integration "aws-tools"`})
	// An integration attached to a stack is in use.
	refused(t, m, deleteOf(catalog.KindIntegration, "aws-w1", 0), refusal{catalog.ErrConflict, "-", `attachment of "aws-w1" to stack "dns"`})
	// A role bound to a key is in use.
	refused(t, m, deleteOf(catalog.KindRole, "runner", 0), refusal{catalog.ErrConflict, "-", `API key "ci"`})
	// A second write integration for aws on dns through autoattach breaks one-write-per-provider.
	refused(t, m, putOf(t, withAuto(awsIn("aws-w2", "team"), config.Autoattach{Label: "net", Write: true}), 0), refusal{catalog.ErrConflict, "-",
		`stack "dns" would have two write attachments for aws`})
	// As a read rule it fits, and credential resolution sees it at once.
	apply(t, m, putOf(t, withAuto(awsIn("aws-w2", "team"), config.Autoattach{Label: "net", Read: true}), 0))
	at := m.Live().Load().Attachments("dns")
	if len(at) != 2 || at[1].Integration != "aws-w2" || at[1].Source != "autoattach:net" {
		t.Errorf("dns attachments = %+v", at)
	}

	// Once nothing uses them they go; a stack takes its direct attachments along.
	apply(t, m, deleteOf(catalog.KindSpace, "team-sub", 0))
	res := apply(t, m, catalog.Mutation{Ref: ref(catalog.KindStack, "dns"), Cascade: func(c *catalog.Catalog) []catalog.Ref {
		var out []catalog.Ref
		for _, a := range c.Attachments("dns") {
			if a.Source == config.SourceDirect {
				out = append(out, ref(catalog.KindAttachment, catalog.AttachmentID(a.Stack, a.Integration)))
			}
		}
		return out
	}})
	if want := []catalog.Ref{ref(catalog.KindStack, "dns"), ref(catalog.KindAttachment, "dns/aws-w1")}; !slices.Equal(res.Deleted, want) {
		t.Errorf("deleting dns removed %v, want %v", res.Deleted, want)
	}
	apply(t, m, deleteOf(catalog.KindIntegration, "aws-w1", 0))
	apply(t, m, deleteOf(catalog.KindAPIKey, "ci", 0))
	apply(t, m, deleteOf(catalog.KindRole, "runner", 0))
}

// withAuto is in with rule as its one autoattach rule.
func withAuto(in config.Integration, rule config.Autoattach) config.Integration {
	in.Autoattach = []config.Autoattach{rule}
	return in
}

func survivesRestart(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 2)
	first := newManager(t, stores[0])
	apply(t, first, putOf(t, config.Space{ID: "team", Parent: "prod"}, 0))
	apply(t, first, putOf(t, config.Stack{ID: "dns", Space: "team"}, 0))
	apply(t, first, putOf(t, config.Stack{ID: "dns", Space: "team", Labels: []string{"net"}}, 0))
	apply(t, first, putOf(t, config.Stack{ID: "gone", Space: "team"}, 0))
	apply(t, first, deleteOf(catalog.KindStack, "gone", 0))

	// A replica started afterwards (or this one restarted) builds the same catalog.
	again := newManager(t, stores[1])
	c := again.Live().Load()
	if st, ok := c.Stack("dns"); !ok || !slices.Equal(st.Labels, []string{"net"}) {
		t.Errorf("after a restart stack dns = %+v, %v", st, ok)
	}
	before, _ := first.Live().Load().Meta(ref(catalog.KindStack, "dns"))
	if meta, _ := c.Meta(ref(catalog.KindStack, "dns")); meta.ManagedBy != catalog.ManagedByAPI || meta.Version != 2 ||
		meta.Created.IsZero() || !meta.Created.Equal(before.Created) {
		t.Errorf("after a restart dns meta = %+v, want version 2 created at %s", meta, before.Created)
	}
	if _, ok := c.Stack("gone"); ok {
		t.Error("a deleted stack came back after a restart")
	}
	if meta, _ := c.Meta(ref(catalog.KindStack, "vpc")); meta.ManagedBy != catalog.ManagedByConfig {
		t.Errorf("the file's stack is managed by %q", meta.ManagedBy)
	}
	if c.Revision() != first.Live().Load().Revision() {
		t.Errorf("revision after restart %d, before %d", c.Revision(), first.Live().Load().Revision())
	}
}

func replicaAppliesOnNewest(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 2)
	a, b := newManager(t, stores[0]), newManager(t, stores[1])
	apply(t, a, putOf(t, config.Stack{ID: "new", Space: "prod"}, 0))
	if _, ok := b.Live().Load().Stack("new"); ok {
		t.Fatal("b saw the change before refreshing (the test proves nothing)")
	}
	if err := b.Refresh(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Live().Load().Stack("new"); !ok {
		t.Fatal("b did not converge after Refresh")
	}
	// A change on b against a's newest version needs no refresh from the caller; a's own
	// stale If-Match is then refused although a has not refreshed either.
	apply(t, b, putOf(t, config.Stack{ID: "new", Space: "prod", Labels: []string{"x"}}, 1))
	refused(t, a, putOf(t, config.Stack{ID: "new", Space: "prod"}, 1), refusal{catalog.ErrPrecondition, "", "at version 2, not 1"})
	// A refusal that depends on another replica's object is made against the newest objects.
	apply(t, b, putOf(t, config.Space{ID: "team", Parent: "prod"}, 0))
	apply(t, b, putOf(t, config.Stack{ID: "in-team", Space: "team"}, 0))
	refused(t, a, deleteOf(catalog.KindSpace, "team", 0), refusal{catalog.ErrConflict, "-", `stack "in-team"`})
}

// waitFor polls cond until it holds or converge has passed since start, and returns how long
// it took; at the deadline it fails the test, naming what did not happen.
func waitFor(t *testing.T, start time.Time, what string, cond func() bool) time.Duration {
	t.Helper()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > converge {
			t.Fatalf("%s: not within %v", what, converge)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runManager runs m's refresh loop until the test ends.
func runManager(t *testing.T, m *catalog.Manager, poll time.Duration) {
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(c, poll) }()
	t.Cleanup(func() { cancel(); <-done })
}

func hasStack(m *catalog.Manager, id string) func() bool {
	return func() bool { _, ok := m.Live().Load().Stack(id); return ok }
}

func convergesOnNotice(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 2)
	a, b := newManager(t, stores[0]), newManager(t, stores[1])
	// b never polls within the test: only notices can bring it a's changes.
	runManager(t, b, time.Hour)
	// A subscription may take a moment to be in place: warm up until b has heard a notice.
	warm := time.Now()
	for i := 0; ; i++ {
		apply(t, a, putOf(t, config.Stack{ID: "warm", Space: "prod", Labels: []string{fmt.Sprintf("n%d", i)}}, 0))
		if hasStack(b, "warm")() {
			break
		}
		if time.Since(warm) > 10*time.Second {
			t.Fatal("no notice reached b within 10 s of commits")
		}
		time.Sleep(100 * time.Millisecond)
	}
	start := time.Now()
	apply(t, a, putOf(t, config.Stack{ID: "new", Space: "prod"}, 0))
	took := waitFor(t, start, "a stack created on a in force on b", hasStack(b, "new"))
	t.Logf("converged on a notice in %v", took)
}

// deafStore is a store whose change notices are all lost.
type deafStore struct{ catalog.Store }

func (deafStore) Notify(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	go func() { <-ctx.Done(); close(ch) }()
	return ch
}

func convergesWithoutNotices(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 2)
	a, b := newManager(t, stores[0]), newManager(t, deafStore{stores[1]})
	runManager(t, b, catalog.DefaultPoll)
	for i := range 3 {
		start := time.Now()
		id := fmt.Sprintf("new%d", i)
		apply(t, a, putOf(t, config.Stack{ID: id, Space: "prod"}, 0))
		took := waitFor(t, start, "a stack created on a in force on a deaf b", hasStack(b, id))
		t.Logf("converged by polling in %v", took)
		start = time.Now()
		apply(t, a, deleteOf(catalog.KindStack, id, 0))
		waitFor(t, start, "a stack deleted on a gone on a deaf b", func() bool { return !hasStack(b, id)() })
	}
}

// concurrentConditionalPuts races contenders PUTs of one stack, half on each of two replicas.
// All at one version: exactly one wins. Each reading the newest version, adding its own label
// and retrying on 412: each version is won exactly once and no label is lost.
func concurrentConditionalPuts(t *testing.T, newReplicas Replicas) {
	stores := newReplicas(t, 2)
	ms := []*catalog.Manager{newManager(t, stores[0]), newManager(t, stores[1])}
	s := ref(catalog.KindStack, "s")
	apply(t, ms[0], putOf(t, config.Stack{ID: "s", Space: "prod"}, 0))

	var mu sync.Mutex
	var wins []int64
	stale := 0
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ms[i%2].Apply(ctx(t), putOf(t, config.Stack{ID: "s", Space: "prod", Labels: []string{fmt.Sprintf("first%d", i)}}, 1))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, res.Version)
			case errors.Is(err, catalog.ErrPrecondition):
				stale++
			default:
				t.Errorf("Apply: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(wins) != 1 || wins[0] != 2 || stale != contenders-1 {
		t.Fatalf("%d PUTs at version 1: wins at versions %v, %d refused with 412; want one win at 2 and %d refusals",
			contenders, wins, stale, contenders-1)
	}

	wins = nil
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := ms[i%2]
			for attempt := 0; ; attempt++ {
				if attempt > 10*contenders {
					t.Errorf("contender %d never won", i)
					return
				}
				c := m.Live().Load()
				st, _ := c.Stack("s")
				meta, _ := c.Meta(s)
				st.Labels = append(slices.Clone(st.Labels), fmt.Sprintf("w%d", i))
				res, err := m.Apply(ctx(t), putOf(t, st, meta.Version))
				if errors.Is(err, catalog.ErrPrecondition) {
					continue // Apply refreshed this replica first: the next read is newer
				}
				if err != nil {
					t.Errorf("Apply: %v", err)
					return
				}
				mu.Lock()
				wins = append(wins, res.Version)
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	slices.Sort(wins)
	for i, v := range wins {
		if v != int64(3+i) {
			t.Fatalf("read-modify-write wins at versions %v, want each of 3..%d exactly once", wins, 2+contenders)
		}
	}
	if err := ms[1].Refresh(ctx(t)); err != nil {
		t.Fatal(err)
	}
	st, _ := ms[1].Live().Load().Stack("s")
	for i := range contenders {
		if !slices.Contains(st.Labels, fmt.Sprintf("w%d", i)) {
			t.Errorf("the label of contender %d was lost: %v", i, st.Labels)
		}
	}
	if v := versionOf(ms[1], s); v != 2+contenders {
		t.Errorf("version after %d changes = %d", 1+contenders, v)
	}

	// Unconditional PUTs all land, each as its own version.
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ms[i%2].Apply(ctx(t), putOf(t, config.Stack{ID: "s", Space: "prod"}, 0)); err != nil {
				t.Errorf("unconditional Apply: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := ms[0].Refresh(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(ms[0], s); v != 2+2*contenders {
		t.Errorf("version after %d more unconditional changes = %d, want %d", contenders, v, 2+2*contenders)
	}
}
