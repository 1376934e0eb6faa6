package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// midReaderKey creates, with the admin key, a role runner holding run:read only and a key
// bound to it on space other, and returns the key's secret.
func midReaderKey(t *testing.T, b *liveBroker) string {
	t.Helper()
	b.put(t, "/v1/roles/runner", `{"actions":["run:read"]}`)
	return boundKey(t, b, "runner@other")
}

// midStartsRun reports whether the key secret may start a run of stack vpc.
func midStartsRun(t *testing.T, b *liveBroker, secret string) bool {
	body := strings.NewReader(`{"stack":"vpc","runType":"TRACKED"}`)
	req, _ := http.NewRequest(http.MethodPost, b.url+"/v1/runs", body)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusCreated
}

// TestApplyWidensNoRoleOverAStackMovedAway checks that a file adding run:create to a role
// a key holds on space other, and moving space team (holding stack vpc) out from under other,
// never lets that key start a run of vpc: before the apply the role lacks run:create, after it
// vpc is no longer under other, so the key must not hold run:create on vpc meanwhile either.
func TestApplyWidensNoRoleOverAStackMovedAway(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"other"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
	runner := midReaderKey(t, b)
	if midStartsRun(t, b, runner) {
		t.Fatal("set-up: the runner key starts a run of vpc before apply")
	}
	file := "roles:\n  - {id: runner, actions: [run:read, run:create, run:update]}\n" +
		"spaces:\n  - {id: team, parent: prod}\n"
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var seen []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && midStartsRun(t, b, runner) {
			mu.Lock()
			seen = append(seen, "before "+r.URL.Path)
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	defer ts.Close()
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}
	if r := runCLI(vars, "apply", "-f", writeFile(t, "file.yaml", file)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		t.Errorf("the runner key started a run of vpc mid-apply: %s", s)
	}
	if midStartsRun(t, b, runner) {
		t.Error("the runner key starts a run of vpc after apply")
	}
}
