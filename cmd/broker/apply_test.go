package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// applyObjects is a file for broker apply: a child space before its parent, integrations
// that leave out what the broker defaults (AWS mode, Vault mount, timeout), an autoattach
// rule, and direct attachments.
const applyObjects = `roles:
  - {id: deployer, actions: [run:create, run:read]}
spaces:
  - {id: team-a, parent: prod, inherit: true, labels: [team]}
  - {id: prod, parent: root, subject_template: "space:{spaceId}:stack:{callerId}:type:{runType}:scope:{scope}"}
stacks:
  - {id: vpc, space: team-a, labels: [net]}
  - {id: dns, space: prod}
integrations:
  - id: aws-read
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/read"}
    autoattach: [{label: net, read: true}]
  - id: aws-write
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/write", session_tags: true}
  - id: vault-ops
    space: prod
    vault: {address: "http://127.0.0.1:8200", role: ops}
    duration: 15m
attachments:
  - {stack: vpc, integration: aws-write, write: true}
  - {stack: dns, integration: vault-ops, read: true, write: true}
`

// applyRefs are applyObjects' objects in the order apply must handle them: roles, spaces
// (parents first), stacks, integrations, attachments.
var applyRefs = []string{
	"role/deployer", "space/prod", "space/team-a", "stack/vpc", "stack/dns",
	"integration/aws-read", "integration/aws-write", "integration/vault-ops",
	"attachment/vpc/aws-write", "attachment/dns/vault-ops",
}

// wantLines checks that out is one line per object of applyRefs, "<ref> <suffix>", in order,
// then summary.
func wantLines(t *testing.T, out, suffix, summary string) {
	t.Helper()
	want := make([]string, 0, len(applyRefs)+1)
	for _, r := range applyRefs {
		want = append(want, r+" "+suffix)
	}
	want = append(want, summary)
	if got := lines(out); !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestApplyTwiceChangesNothingTheSecondTime(t *testing.T) {
	b := startLive(t, liveFile(""))
	path := writeFile(t, "objects.yaml", applyObjects)

	first := b.cli(t, liveAdmin, "apply", "-f", path)
	if first.code != 0 || first.stderr != "" {
		t.Fatalf("first apply: %+v", first)
	}
	wantLines(t, first.stdout, "created", "10 created, 0 changed, 0 unchanged")
	if n := b.writeCount(); n != len(applyRefs) {
		t.Fatalf("first apply made %d changing requests, want one PUT per object (%d): %v", n, len(applyRefs), b.writesSince(0))
	}
	for _, w := range b.writesSince(0) {
		if !strings.HasPrefix(w, "PUT ") || !strings.HasSuffix(w, "If-Match= If-None-Match=*") {
			t.Errorf("creating request %q: want a PUT with If-None-Match: * (create only), without If-Match", w)
		}
	}

	second := b.cli(t, liveAdmin, "apply", "-f", path)
	if second.code != 0 || second.stderr != "" {
		t.Fatalf("second apply: %+v", second)
	}
	wantLines(t, second.stdout, "unchanged", "no changes: all 10 objects unchanged")
	if w := b.writesSince(len(applyRefs)); len(w) != 0 {
		t.Errorf("second apply sent changing requests: %v", w)
	}

	// The objects are there as the file says, with the broker's defaults.
	var got struct {
		Integration struct {
			AWS     struct{ Mode string } `json:"aws"`
			Timeout string                `json:"timeout"`
			Version int                   `json:"version"`
		} `json:"integration"`
	}
	r := b.cli(t, liveAdmin, "get", "integration", "aws-read", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("get: %+v", r)
	}
	if got.Integration.AWS.Mode != "web-identity" || got.Integration.Timeout != "10s" || got.Integration.Version != 1 {
		t.Errorf("integration as served: %+v", got.Integration)
	}
}

func TestApplyChangesOnlyWhatDiffers(t *testing.T) {
	b := startLive(t, liveFile(""))
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "v1.yaml", applyObjects)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	changed := strings.NewReplacer("duration: 15m", "duration: 20m", "{id: dns, space: prod}", "{id: dns, space: prod, labels: [dns]}",
		"{stack: dns, integration: vault-ops, read: true, write: true}", "{stack: dns, integration: vault-ops, read: true}").Replace(applyObjects)
	before := b.writeCount()
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "v2.yaml", changed))
	if r.code != 0 {
		t.Fatalf("apply changed file: %+v", r)
	}
	var want []string
	for _, ref := range applyRefs {
		switch ref {
		case "stack/dns", "integration/vault-ops", "attachment/dns/vault-ops":
			want = append(want, ref+" changed")
		default:
			want = append(want, ref+" unchanged")
		}
	}
	want = append(want, "0 created, 3 changed, 7 unchanged")
	if got := lines(r.stdout); !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}
	writes := b.writesSince(before)
	wantWrites := []string{
		// The attachment only loses write: that goes first (narrowingFirst).
		`PUT /v1/stacks/dns/attachments/vault-ops If-Match="1"`,
		`PUT /v1/stacks/dns If-Match="1"`,
		`PUT /v1/integrations/vault-ops If-Match="1"`,
	}
	if !slices.Equal(writes, wantWrites) {
		t.Errorf("changing requests %v, want %v", writes, wantWrites)
	}
	var got struct {
		Integration struct {
			Duration string `json:"duration"`
			Version  int    `json:"version"`
		} `json:"integration"`
	}
	g := b.cli(t, liveAdmin, "get", "integrations", "vault-ops", "-o", "json")
	if json.Unmarshal([]byte(g.stdout), &got) != nil || got.Integration.Duration != "20m0s" || got.Integration.Version != 2 {
		t.Errorf("after the change: %s", g.stdout)
	}
}

func TestApplyDryRunChangesNothing(t *testing.T) {
	b := startLive(t, liveFile(""))
	path := writeFile(t, "objects.yaml", applyObjects)
	r := b.cli(t, liveAdmin, "apply", "-f", path, "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: %+v", r)
	}
	wantLines(t, r.stdout, "created (dry run)", "dry run, nothing changed: 10 to create, 0 to change, 0 unchanged")
	if n := b.writeCount(); n != 0 {
		t.Fatalf("dry run sent changing requests: %v", b.writesSince(0))
	}
	if g := b.cli(t, liveAdmin, "get", "space", "prod"); g.code != 1 || !strings.Contains(g.stderr, "404") {
		t.Errorf("space prod exists after a dry run: %+v", g)
	}

	if r := b.cli(t, liveAdmin, "apply", "-f", path); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	before := b.writeCount()
	changed := strings.Replace(applyObjects, "actions: [run:create, run:read]", "actions: [run:read]", 1)
	r = b.cli(t, liveAdmin, "apply", "--dry-run", "-f", writeFile(t, "v2.yaml", changed))
	if r.code != 0 || lines(r.stdout)[0] != "role/deployer changed (dry run)" ||
		!strings.Contains(r.stdout, "dry run, nothing changed: 0 to create, 1 to change, 9 unchanged") {
		t.Errorf("dry run of a change: %+v", r)
	}
	if w := b.writesSince(before); len(w) != 0 {
		t.Errorf("dry run sent changing requests: %v", w)
	}
	if g := b.cli(t, liveAdmin, "get", "role", "deployer"); !strings.Contains(g.stdout, "run:create,run:read") {
		t.Errorf("role changed by a dry run: %s", g.stdout)
	}
}

func TestApplyLeavesObjectsOfTheFileAlone(t *testing.T) {
	b := startLive(t, liveFile(""))
	same := "spaces:\n  - {id: root}\n  - {id: base, parent: root, labels: [file]}\nstacks:\n  - {id: s1, space: base}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "same.yaml", same))
	want := []string{"space/root unchanged (managed by config)", "space/base unchanged (managed by config)", "stack/s1 created", "1 created, 0 changed, 2 unchanged"}
	if r.code != 0 || !slices.Equal(lines(r.stdout), want) {
		t.Fatalf("apply of the file's own objects: %+v", r)
	}

	before := b.writeCount()
	differs := "spaces:\n  - {id: base, parent: root, labels: [api]}\nstacks:\n  - {id: s2, space: base}\n"
	r = b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "differs.yaml", differs))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %+v", r.code, r)
	}
	got := lines(r.stdout)
	if len(got) != 3 || !strings.HasPrefix(got[0], "space/base failed: ") || !strings.Contains(got[0], "configuration file") ||
		got[1] != "stack/s2 created" || got[2] != "1 created, 0 changed, 0 unchanged, 1 failed" {
		t.Errorf("output:\n%s", r.stdout)
	}
	if r.stderr != "broker apply: 1 of 2 objects failed: space/base\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	if w := b.writesSince(before); !slices.Equal(w, []string{"PUT /v1/stacks/s2 If-Match= If-None-Match=*"}) {
		t.Errorf("changing requests %v: want only the stack's", w)
	}
}

func TestApplyGoesOnAfterAFailure(t *testing.T) {
	b := startLive(t, liveFile(""))
	file := "roles:\n  - {id: r1, actions: [run:read]}\nstacks:\n  - {id: lost, space: nowhere}\n  - {id: s1, space: base}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", file))
	got := lines(r.stdout)
	if r.code != 1 || len(got) != 4 || got[0] != "role/r1 created" || !strings.HasPrefix(got[1], "stack/lost failed: ") ||
		!strings.Contains(got[1], "nowhere") || got[2] != "stack/s1 created" {
		t.Fatalf("apply: %+v", r)
	}
	if r.stderr != "broker apply: 1 of 3 objects failed: stack/lost\n" {
		t.Errorf("stderr %q", r.stderr)
	}

	// A key without space:admin changes nothing, and every object says why.
	r = b.cli(t, liveReader, "apply", "-f", writeFile(t, "g.yaml", "stacks:\n  - {id: s9, space: base}\n"))
	if r.code != 1 || !strings.Contains(r.stdout, "stack/s9 failed: ") || !strings.Contains(r.stdout, "403") {
		t.Errorf("apply with a read-only key: %+v", r)
	}
}

func TestApplyRefusesWhatItDoesNotApply(t *testing.T) {
	b := startLive(t, liveFile(""))
	cases := []struct {
		name, file string
		want       []string
	}{
		{"server setting", "issuer: http://x\nspaces: [{id: a, parent: root}]\n", []string{"issuer: unknown key", "takes only spaces, stacks, integrations, attachments and roles"}},
		{"api keys", "api_keys:\n  - {id: k, secret_sha256: abc, bindings: []}\n", []string{"api_keys: unknown key", "broker api-keys create"}},
		{"unknown field", "spaces:\n  - {id: a, parnet: root}\n", []string{"f.yaml:2: spaces[0].parnet: unknown key"}},
		{"wrong type", "stacks: {id: a}\n", []string{"stacks: expected a list"}},
		{"duplicate id", "stacks:\n  - {id: a, space: base}\n  - {id: a, space: root}\n", []string{`stacks[1]: "a" is given twice (first at stacks[0])`}},
		{"attachment without stack", "attachments:\n  - {integration: x, read: true}\n", []string{"attachments[0]: stack and integration are required"}},
		{"no objects", "# nothing\n", []string{"holds no spaces, stacks, integrations, attachments or roles"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "f.yaml", tc.file))
			if r.code != 1 || r.stdout != "" {
				t.Fatalf("apply: %+v", r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not say %q", r.stderr, w)
				}
			}
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
		})
	}
	if n := b.writeCount(); n != 0 {
		t.Errorf("refused files sent changing requests: %v", b.writesSince(0))
	}
}

func TestParentsFirst(t *testing.T) {
	sp := func(id, parent string) config.Space { return config.Space{ID: id, Parent: parent} }
	cases := []struct {
		name string
		in   []config.Space
		want []string
	}{
		{"chain given leaf first", []config.Space{sp("c", "b"), sp("b", "a"), sp("a", "root")}, []string{"a", "b", "c"}},
		{"parents elsewhere keep file order", []config.Space{sp("x", "root"), sp("y", "prod")}, []string{"x", "y"}},
		{"siblings after their parent", []config.Space{sp("s1", "p"), sp("p", "root"), sp("s2", "p")}, []string{"p", "s1", "s2"}},
		{"cycle last, in file order", []config.Space{sp("c1", "c2"), sp("ok", "root"), sp("c2", "c1")}, []string{"ok", "c1", "c2"}},
		{"own parent", []config.Space{sp("self", "self"), sp("ok", "root")}, []string{"self", "ok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range parentsFirst(tc.in) {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// TestApplyTellsACreateAnOlderBrokerMadeAReplace: a broker of a release that ignores
// If-None-Match replaces an object another admin created after apply read none; apply, which
// asked to create only, reports the object as failed instead of created.
func TestApplyTellsACreateAnOlderBrokerMadeAReplace(t *testing.T) {
	b := startLive(t, liveFile(""))
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	older := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/v1/stacks/s1" {
			// Another admin creates the stack first, and this broker drops the header.
			req, _ := http.NewRequest(http.MethodPut, b.url+r.URL.Path, strings.NewReader(`{"space":"base","labels":["theirs"]}`))
			req.Header.Set("Authorization", "Bearer "+liveAdmin)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
			}
			r.Header.Del("If-None-Match")
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(older.Close)
	r := runCLI(map[string]string{"BROKER_URL": older.URL, "BROKER_API_KEY": liveAdmin},
		"apply", "-f", writeFile(t, "f.yaml", "stacks:\n  - {id: s1, space: base}\n"))
	if r.code != 1 || !strings.Contains(r.stdout, "stack/s1 failed: ") || !strings.Contains(r.stdout, "If-None-Match") {
		t.Errorf("apply through a broker that replaced what another admin created: %+v", r)
	}
}
