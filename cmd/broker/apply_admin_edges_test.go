package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// racingPut is another admin's PUT that lands between apply's read of path and its own PUT.
type racingPut struct {
	path string
	body string
}

// racingURL serves b through a proxy that, on apply's first PUT to race.path, first sends
// race.body there with the admin key, as another admin would; later PUTs pass untouched.
func racingURL(t *testing.T, b *liveBroker, race racingPut) string {
	t.Helper()
	target, err := url.Parse(b.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == race.path {
			once.Do(func() { b.put(t, race.path, race.body) })
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestApplyDoesNotOverwriteAConcurrentChange pins that an object changed (or created) by
// another admin between apply's read and its write is reported failed, exit 1, and keeps the
// other admin's version: the broker refuses the stale If-Match (or If-None-Match: *) with 412,
// and apply must not read the object again and write over it in its second pass, which is for
// 409 conflicts with objects applied later only.
// Guards against: apply.go:applier.apply retries on 412 Precondition Failed as on 409 Conflict.
func TestApplyDoesNotOverwriteAConcurrentChange(t *testing.T) {
	cases := []struct {
		name     string
		existing string // a stack s1 the broker holds before apply, "" for none
	}{
		{"changed meanwhile", `{"space":"base","labels":["before"]}`},
		{"created meanwhile", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			if tc.existing != "" {
				b.put(t, "/v1/stacks/s1", tc.existing)
			}
			u := racingURL(t, b, racingPut{path: "/v1/stacks/s1", body: `{"space":"base","labels":["theirs"]}`})
			r := runCLI(map[string]string{"BROKER_URL": u, "BROKER_API_KEY": liveAdmin},
				"apply", "-f", writeFile(t, "f.yaml", "stacks:\n  - {id: s1, space: base, labels: [mine]}\n"))
			if r.code != 1 || !strings.Contains(r.stdout, "stack/s1 failed: ") {
				t.Errorf("apply racing another admin: %+v", r)
			}
			var got struct {
				Stack struct{ Labels []string } `json:"stack"`
			}
			g := b.cli(t, liveAdmin, "get", "stack", "s1", "-o", "json")
			if g.code != 0 || json.Unmarshal([]byte(g.stdout), &got) != nil {
				t.Fatalf("get: %+v", g)
			}
			if !slices.Equal(got.Stack.Labels, []string{"theirs"}) {
				t.Errorf("labels %v after apply: the other admin's change was overwritten", got.Stack.Labels)
			}
		})
	}
}

// TestApplyAttachmentOfAnUnreadableStackFails pins that an attachment whose stack's listing the
// broker cannot serve (503) is reported failed, also in a dry run, rather than planned as a
// creation: only a 404 for the stack means nothing is attached to it.
// Guards against: applyplan.go:attachment `isNotFound(err)` -> `err != nil` (any error read as no
// stack)
func TestApplyAttachmentOfAnUnreadableStackFails(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/stacks/s1/attachments" && r.Method == http.MethodGet {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the store is unreachable"}}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such object"}}`))
	}))
	t.Cleanup(ts.Close)
	vars := map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}
	r := runCLI(vars, "apply", "--dry-run", "-f", writeFile(t, "f.yaml", "attachments:\n  - {stack: s1, integration: aws, read: true}\n"))
	if r.code != 1 || !strings.Contains(r.stdout, "attachment/s1/aws failed: ") || !strings.Contains(r.stdout, "503") || strings.Contains(r.stdout, "created") {
		t.Errorf("dry run of an attachment whose stack the broker could not read: %+v", r)
	}
}

// TestAdminCallTakesNo3xxAsSuccess pins that an answer outside 2xx that the HTTP client hands back
// rather than follows (a 3xx without a Location, 304) is an error: delete does not print "deleted"
// and exits 1.
// Guards against: adminclient.go:adminClient.call `resp.StatusCode > 299` -> `resp.StatusCode >
// 399`
func TestAdminCallTakesNo3xxAsSuccess(t *testing.T) {
	for _, status := range []int{http.StatusMultipleChoices, http.StatusNotModified} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
		}))
		r := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_API_KEY": liveAdmin}, "delete", "stack", "s1")
		ts.Close()
		if r.code != 1 || strings.Contains(r.stdout, "deleted") {
			t.Errorf("delete answered %d: %+v", status, r)
		}
	}
}

// TestParentsFirstListsEachSpaceOnceWithTwoCycles pins that spaces in two separate parent
// cycles each come out once, at the end in file order, so that apply never handles a space twice.
// Guards against: applyplan.go:parentsFirst cycle members left "visiting" (state[j] = done dropped)
func TestParentsFirstListsEachSpaceOnceWithTwoCycles(t *testing.T) {
	in := []config.Space{{ID: "a1", Parent: "a2"}, {ID: "a2", Parent: "a1"}, {ID: "ok", Parent: "root"}, {ID: "b1", Parent: "b2"}, {ID: "b2", Parent: "b1"}}
	var got []string
	for _, s := range parentsFirst(in) {
		got = append(got, s.ID)
	}
	if want := []string{"ok", "a1", "a2", "b1", "b2"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
