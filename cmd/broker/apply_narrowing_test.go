package main

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// narrowFile labels stack vpc net and narrows integration aws-w's rule on net from write
// to read: once applied, vpc is attached to aws-w for read only.
const narrowFile = `stacks:
  - {id: vpc, space: base, labels: [net]}
integrations:
  - id: aws-w
    space: base
    aws: {role_arn: "arn:aws:iam::123456789012:role/w"}
    autoattach: [{label: net, read: true}]
`

// setUpNarrowing gives b an unlabelled stack vpc and an integration aws-w whose rule
// attaches stacks labelled net for write, as narrowFile finds them.
func setUpNarrowing(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/stacks/vpc", `{"space":"base","labels":[]}`)
	b.put(t, "/v1/integrations/aws-w", `{"space":"base","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
}

// opsKey creates, with the admin key, a key holding space:admin and run:read (no run
// rights) on base, and returns its secret.
func opsKey(t *testing.T, b *liveBroker) string {
	t.Helper()
	b.put(t, "/v1/roles/spadmin", `{"actions":["space:admin","run:read"]}`)
	r := b.cli(t, liveAdmin, "api-keys", "create", "--id", "ops", "--bind", "spadmin@base",
		"-o", "json")
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Secret == "" {
		t.Fatalf("api-keys create: %+v", r)
	}
	return k.Secret
}

// vPCWrites reads, with the admin key, whether stack vpc holds any attachment for write.
func vPCWrites(t *testing.T, b *liveBroker) string {
	req, _ := http.NewRequest(http.MethodGet, b.url+"/v1/stacks/vpc/attachments", nil)
	req.Header.Set("Authorization", "Bearer "+liveAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), `"write":true`) {
		return string(body)
	}
	return ""
}

// TestApplyNarrowingNeedsNoWriteRights: a file whose end state attaches no stack for write
// to anything it was not attached to before (a stack labelled where an integration's rule on
// that label goes from write to read) is applied in one run by a key holding space:admin but
// not run:create and run:update; apply must not pass through a state the file never declares
// that needs those rights.
func TestApplyNarrowingNeedsNoWriteRights(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpNarrowing(t, b)
	ops := opsKey(t, b)
	r := b.cli(t, ops, "apply", "-f", writeFile(t, "narrow.yaml", narrowFile))
	if r.code != 0 {
		t.Errorf("apply of a file granting no write: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// inheritFile lets space team inherit from prod, whose integration prod-w's rule on net
// goes from write to read: once applied, vpc (in team, labelled net) is attached to prod-w for
// read only.
const inheritFile = `spaces:
  - {id: team, parent: prod, inherit: true}
integrations:
  - id: prod-w
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/w"}
    autoattach: [{label: net, read: true}]
`

// setUpInherit gives b a space team under prod that does not inherit, its stack vpc
// labelled net, and prod's integration prod-w attaching stacks labelled net for write.
func setUpInherit(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":["net"]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
}

// TestApplyGrantsNoWriteTheFileDoesNotDeclare: while apply works through a file that
// attaches stack vpc to no integration for write (before or after), vpc never holds a write
// attachment: a run of vpc in its write phase could take write credentials meanwhile, and an
// apply stopped half-way (a later object refused) would leave them granted.
func TestApplyGrantsNoWriteTheFileDoesNotDeclare(t *testing.T) {
	cases := []struct {
		name  string
		setUp func(*testing.T, *liveBroker)
		file  string
	}{
		{"a stack labelled", setUpNarrowing, narrowFile},
		{"a space made to inherit", setUpInherit, inheritFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			tc.setUp(t, b)
			seen := applyWatchingVPC(t, b, tc.file)
			for _, s := range seen {
				t.Errorf("vpc held a write attachment mid-apply: %s", s)
			}
		})
	}
}

// applyWatchingVPC applies file with the admin key, noting before each PUT vpc's attachments
// when one of them is for write.
func applyWatchingVPC(t *testing.T, b *liveBroker, file string) []string {
	t.Helper()
	seen, r := applyWatched(t, b, watchedApply{file: file, bad: func() string { return vPCWrites(t, b) }})
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	return seen
}

// watchedApply is an apply to watch: its file, the key applying it (the admin key when empty),
// and bad, which says before each PUT what the broker grants that it must not ("" for nothing).
type watchedApply struct {
	file, key string
	bad       func() string
}

// applyWatched runs w through a proxy that asks w.bad before each PUT, and returns what it
// said, each prefixed with the PUT's path, and apply's result.
func applyWatched(t *testing.T, b *liveBroker, w watchedApply) ([]string, result) {
	t.Helper()
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			if got := w.bad(); got != "" {
				mu.Lock()
				seen = append(seen, "before "+r.URL.Path+": "+got)
				mu.Unlock()
			}
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer ts.Close()
	key := cmp.Or(w.key, liveAdmin)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": key}
	r := runCLI(vars, "apply", "-f", writeFile(t, "file.yaml", w.file))
	mu.Lock()
	defer mu.Unlock()
	return seen, r
}

// boundKey creates, with the admin key, a key bound by binding ("role@space", the key named
// after its role) and returns its secret.
func boundKey(t *testing.T, b *liveBroker, binding string) string {
	t.Helper()
	role, _, _ := strings.Cut(binding, "@")
	r := b.cli(t, liveAdmin, "api-keys", "create", "--id", role, "--bind", binding, "-o", "json")
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(r.stdout), &k); err != nil || k.Secret == "" {
		t.Fatalf("api-keys create: %+v", r)
	}
	return k.Secret
}
