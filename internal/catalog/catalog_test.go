package catalog_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func awsIn(id, space string) config.Integration {
	return config.Integration{ID: id, Space: space, AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/" + id}}
}

// file: root → prod (inherits) → prod-eu; a stack in prod; an integration in root.
func file() catalog.Objects {
	return catalog.Objects{
		Spaces: []config.Space{
			{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}, {ID: "prod-eu", Parent: "prod", Inherit: true},
		},
		Stacks:       []config.Stack{{ID: "vpc", Space: "prod"}},
		Integrations: []config.Integration{awsIn("aws-root", "root")},
		Attachments:  []config.Attachment{{Stack: "vpc", Integration: "aws-root", Read: true}},
		Roles:        []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin, config.ActionRunCreate}}},
		APIKeys: []config.APIKey{{ID: "ops", SecretSHA256: hashHex("ops-secret"),
			Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}},
	}
}

func TestBuildMergesFileAndAPI(t *testing.T) {
	api := catalog.Versioned{
		Objects: catalog.Objects{
			Stacks:       []config.Stack{{ID: "dns", Space: "prod-eu", Labels: []string{"team"}}},
			Integrations: []config.Integration{withAuto(awsIn("aws-write", "prod"), config.Autoattach{Label: "team", Write: true})},
		},
		Versions: map[catalog.Ref]int64{
			{Kind: catalog.KindStack, ID: "dns"}:             3,
			{Kind: catalog.KindIntegration, ID: "aws-write"}: 1,
		},
	}
	c, err := catalog.Build(catalog.Input{File: file(), API: api, Revision: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision() != 7 {
		t.Errorf("Revision = %d", c.Revision())
	}
	if m, _ := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "dns"}); m != (catalog.Meta{ManagedBy: catalog.ManagedByAPI, Version: 3}) {
		t.Errorf("dns meta = %+v", m)
	}
	if m, _ := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}); m != (catalog.Meta{ManagedBy: catalog.ManagedByConfig, Version: 1}) {
		t.Errorf("vpc meta = %+v", m)
	}
	if got := strings.Join(c.SpacePath("prod-eu"), "/"); got != "root/prod/prod-eu" {
		t.Errorf("SpacePath = %s", got)
	}
	if !c.Within("prod-eu", "prod") || c.Within("prod", "prod-eu") {
		t.Error("Within is wrong")
	}
	if sp, ok := c.StackSpace("dns"); !ok || sp != "prod-eu" {
		t.Errorf("StackSpace(dns) = %q, %v", sp, ok)
	}
	// The autoattach rule gives dns its write integration; it has no read one.
	run := runs.Run{Stack: "dns", Space: "prod-eu", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}
	if in, err := c.Resolve(run, "aws", ""); err != nil || in.ID != "aws-write" {
		t.Errorf("Resolve write = %v, %v", in.ID, err)
	}
	run.Phase, run.Scope = runs.Planning, runs.Read
	if _, err := c.Resolve(run, "aws", ""); !errors.Is(err, exchange.ErrNotAttached) {
		t.Errorf("Resolve read = %v, want ErrNotAttached", err)
	}
	at := c.Attachments("dns")
	if len(at) != 1 || at[0].Source != "autoattach:team" || !at[0].Write || at[0].Read {
		t.Errorf("Attachments(dns) = %+v", at)
	}
	p, err := c.Access().Authenticate("ops-secret")
	if err != nil || c.Access().Allowed(p, config.ActionSpaceAdmin, "prod-eu") != nil {
		t.Errorf("ops cannot administer prod-eu: %v", err)
	}
	sub, ok := c.Subject(claims.Subject{SpaceID: "prod-eu", CallerType: "stack", CallerID: "dns",
		Run: runs.Run{ID: "R", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}})
	if !ok || sub != "space:prod-eu:stack:dns:run_type:TRACKED:scope:write" {
		t.Errorf("Subject = %q, %v", sub, ok)
	}
}

// withAuto is in with rule as its one autoattach rule.
func withAuto(in config.Integration, rule config.Autoattach) config.Integration {
	in.Autoattach = []config.Autoattach{rule}
	return in
}

func TestBuildRefusesCollisions(t *testing.T) {
	api := catalog.Versioned{Objects: catalog.Objects{
		Stacks: []config.Stack{{ID: "vpc", Space: "prod"}},
		Roles:  []config.Role{{ID: "admin", Actions: []string{config.ActionRunRead}}},
	}}
	_, err := catalog.Build(catalog.Input{File: file(), API: api})
	var ce *catalog.CollisionError
	if !errors.As(err, &ce) || len(ce.Refs) != 2 {
		t.Fatalf("Build = %v, want a CollisionError naming 2 objects", err)
	}
	for _, want := range []string{`stack "vpc"`, `role "admin"`, "configuration file and through the API"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestBuildRefusesInvalidObjects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*catalog.Objects)
		path   string
	}{
		{"short hash", func(o *catalog.Objects) { o.APIKeys[0].SecretSHA256 = "abcd" }, "api_keys[0].secret_sha256"},
		{"duplicate key id", func(o *catalog.Objects) { o.APIKeys = append(o.APIKeys, o.APIKeys[0]) }, "api_keys[1].id"},
		{"unknown role", func(o *catalog.Objects) { o.APIKeys[0].Bindings[0].Role = "ghost" }, "api_keys[0].bindings[0].role"},
		{"unknown space", func(o *catalog.Objects) { o.APIKeys[0].Bindings[0].Space = "ghost" }, "api_keys[0].bindings[0].space"},
		{"cycle", func(o *catalog.Objects) { o.Spaces[1].Parent = "prod-eu" }, "spaces[1].parent"},
		{"unusable integration", func(o *catalog.Objects) {
			o.Spaces[1].Inherit = false
		}, "attachments[0].integration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := file()
			tt.mutate(&objs)
			_, err := catalog.Build(catalog.Input{File: objs})
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Build = %v, want config.Errors", err)
			}
			found := false
			for _, fe := range errs {
				found = found || fe.Path == tt.path
			}
			if !found {
				t.Errorf("no problem at %s in %v", tt.path, err)
			}
		})
	}
}

func TestLiveSwaps(t *testing.T) {
	a, err := catalog.Build(catalog.Input{File: file(), Revision: 1})
	if err != nil {
		t.Fatal(err)
	}
	l := catalog.NewLive(a)
	objs := file()
	objs.APIKeys = nil
	b, err := catalog.Build(catalog.Input{File: objs, Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.Store(b)
	if l.Load().Revision() != 2 {
		t.Fatal("Store did not swap")
	}
	if _, err := l.Load().Access().Authenticate("ops-secret"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("a deleted key still authenticates: %v", err)
	}
}

// big builds spaces spaces under root and stacks stacks spread over them, each with an
// attachment, plus one autoattach rule matching a tenth of the stacks.
func big(spaces, stacks int) catalog.Objects {
	o := file()
	for i := range spaces {
		o.Spaces = append(o.Spaces, config.Space{ID: fmt.Sprintf("s%d", i), Parent: "prod", Inherit: true})
	}
	auto := withAuto(awsIn("aws-auto", "prod"), config.Autoattach{Label: "tenth", Write: true})
	o.Integrations = append(o.Integrations, auto)
	for i := range stacks {
		st := config.Stack{ID: fmt.Sprintf("st%d", i), Space: fmt.Sprintf("s%d", i%spaces)}
		if i%10 == 0 {
			st.Labels = []string{"tenth"}
		}
		o.Stacks = append(o.Stacks, st)
		o.Attachments = append(o.Attachments, config.Attachment{Stack: st.ID, Integration: "aws-root", Read: true})
	}
	return o
}

func TestBuildScales(t *testing.T) {
	c, err := catalog.Build(catalog.Input{File: big(1000, 10000)})
	if err != nil {
		t.Fatal(err)
	}
	if in, err := c.Resolve(runs.Run{Stack: "st9990", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Write}, "aws", ""); err != nil || in.ID != "aws-auto" {
		t.Errorf("Resolve = %v, %v", in.ID, err)
	}
}

// BenchmarkBuild10kStacks measures rebuilding the catalog after one change with 1,000 spaces
// and 10,000 stacks (the goal is under 50 ms).
func BenchmarkBuild10kStacks(b *testing.B) {
	objs := big(1000, 10000)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := catalog.Build(catalog.Input{File: objs}); err != nil {
			b.Fatal(err)
		}
	}
}
