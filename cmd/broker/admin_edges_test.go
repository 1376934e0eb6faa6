package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestAdminCommandsTakeOnly2xxAndOnly404AsAbsent: a redirect is not a success (delete does not
// print "deleted"), and an object apply cannot read (503) fails instead of being planned as a
// creation, also in a dry run.
// Guards against: adminclient.go:137 `ae.Status == http.StatusNotFound` -> `ae.Status >= 400`
func TestAdminCommandsTakeOnly2xxAndOnly404AsAbsent(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/stacks/moved":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusTemporaryRedirect)
		case r.URL.Path == "/v1/stacks/s1" && r.Method == http.MethodGet:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the store is unreachable"}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such object"}}`))
		}
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}
	if r := runCLI(vars, "delete", "stack", "moved"); r.code != 1 || strings.Contains(r.stdout, "deleted") {
		t.Errorf("delete answered 307: %+v", r)
	}
	r := runCLI(vars, "apply", "--dry-run", "-f", writeFile(t, "f.yaml", "stacks:\n  - {id: s1, space: root}\n"))
	if r.code != 1 || !strings.Contains(r.stdout, "stack/s1 failed: ") || !strings.Contains(r.stdout, "503") || strings.Contains(r.stdout, "created") {
		t.Errorf("dry run of an object the broker could not read: %+v", r)
	}
}

// TestAdminCommandsRefuseABadIDAsUsage: get and delete refuse an id that breaks the id rule with
// exit 2 and one line, before any request reaches the broker.
// Guards against: delete.go:42 checkID("the id", id) removed; delete.go:35 checkID of the stack
// removed; get.go:44 checkID("the id", id) removed
func TestAdminCommandsRefuseABadIDAsUsage(t *testing.T) {
	b := startLive(t, liveFile(""))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delete", "stack", "Bad.Id"}, "the id"},
		{[]string{"delete", "space", "x..y"}, "the id"},
		{[]string{"delete", "attachment", "Vpc/aws"}, "the stack"},
		{[]string{"delete", "attachment", "vpc/Aws"}, "the integration"},
		{[]string{"get", "space", "Root"}, "the id"},
		{[]string{"get", "api-key", "Admin"}, "the id"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := b.cli(t, liveAdmin, tc.args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "is not an id") ||
				strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%+v; want exit 2 and one line saying %s is not an id", r, tc.want)
			}
		})
	}
	if n := b.writeCount(); n != 0 {
		t.Errorf("refused commands sent changing requests: %v", b.writesSince(0))
	}
}

// TestRuleScopesNamesBothScopes: broker get integrations shows an autoattach rule's scopes as read,
// write, read+write or none.
// Guards against: kinds.go:132 `case r.Read && r.Write` removed (read+write shown as "read")
func TestRuleScopesNamesBothScopes(t *testing.T) {
	for _, tc := range []struct {
		read, write bool
		want        string
	}{{true, true, "read+write"}, {true, false, "read"}, {false, true, "write"}, {false, false, "none"}} {
		if got := ruleScopes(config.Autoattach{Label: "l", Read: tc.read, Write: tc.write}); got != tc.want {
			t.Errorf("ruleScopes(read=%v, write=%v) = %q, want %q", tc.read, tc.write, got, tc.want)
		}
	}
}
