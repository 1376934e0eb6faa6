package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// fillTemplates creates API spaces t0, t1, ... with distinct templates until the API refuses
// one (the cap reached), and returns how many were created.
func fillTemplates(t *testing.T, ts *testServer) int {
	t.Helper()
	for i := 0; i <= config.MaxSubjectTemplates; i++ {
		body := fmt.Sprintf(`{"parent":"root","subjectTemplate":"{spacePath}:{callerId}:t%d:{scope}"}`, i)
		a := ts.admin(t, "PUT", fmt.Sprintf("/v1/spaces/t%d", i), body)
		if a.code == 400 {
			return i
		}
		if a.code != 201 {
			t.Fatalf("space t%d: %d %s", i, a.code, a.body)
		}
	}
	t.Fatal("no refusal")
	return 0
}

// distinctTemplates counts the distinct effective subject templates of the spaces the root admin
// lists.
func distinctTemplates(t *testing.T, ts *testServer) int {
	var list struct {
		Spaces []struct{ SubjectTemplate string } `json:"spaces"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/spaces", bearer: rootAdminSecret, out: &list})
	distinct := map[string]bool{}
	for _, sp := range list.Spaces {
		distinct[config.EffectiveSubjectTemplate(sp.SubjectTemplate)] = true
	}
	return len(distinct)
}

// TestTemplateCapKeepsOwnTemplate: with the spaces holding more than MaxSubjectTemplates distinct
// templates (the operators' file may add them; a store from before the cap may hold them), a PUT
// of an API space that keeps its own template, changing only its labels, adds no template and is
// taken.
func TestTemplateCapKeepsOwnTemplate(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	fillTemplates(t, ts)
	next := *ts.srv.cfg
	next.Spaces = append(slices.Clone(next.Spaces), config.Space{ID: "file-own", Parent: "root", SubjectTemplate: "f:{spacePath}:{callerId}:{scope}:{runType}:z"})
	if err := ts.srv.Reload(context.Background(), &next, nil); err != nil {
		t.Fatalf("reload with one more file template: %v", err)
	}
	if n := distinctTemplates(t, ts); n <= config.MaxSubjectTemplates {
		t.Fatalf("distinct templates after the reload: %d", n)
	}
	a := ts.admin(t, "PUT", "/v1/spaces/t5", `{"parent":"root","subjectTemplate":"{spacePath}:{callerId}:t5:{scope}","labels":["team-x"]}`)
	if a.code != 200 {
		t.Errorf("PUT of API space t5 with its own template unchanged, labels added: %d %s, want 200", a.code, a.body)
	}
}

// TestTemplateCapUnderConcurrentPuts: the cap is checked on the catalog each change is committed
// against: sixteen concurrent PUTs of spaces with fresh templates, one short of the cap, leave
// the spaces at the cap.
func TestTemplateCapUnderConcurrentPuts(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	n := fillTemplates(t, ts)
	// One short of the cap: delete the last created space.
	if a := ts.admin(t, "DELETE", fmt.Sprintf("/v1/spaces/t%d", n-1), ""); a.code != 204 {
		t.Fatalf("delete: %d %s", a.code, a.body)
	}
	var wg sync.WaitGroup
	codes := make([]int, 16)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"parent":"root","subjectTemplate":"{spacePath}:{callerId}:c%d:{scope}"}`, i)
			codes[i] = ts.admin(t, "PUT", fmt.Sprintf("/v1/spaces/c%d", i), body).code
		}()
	}
	wg.Wait()
	if d := distinctTemplates(t, ts); d > config.MaxSubjectTemplates {
		t.Errorf("concurrent PUTs one short of the cap: %d distinct templates, cap %d (answers %v)", d, config.MaxSubjectTemplates, codes)
	}
}

// TestTemplateCapAfterAuthorization: the cap is checked once the change is authorized, so at the
// cap a key without space:admin gets the same audited 403 whether or not a space it cannot read
// uses the template: no oracle on hidden spaces' templates.
func TestTemplateCapAfterAuthorization(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	fillTemplates(t, ts)
	probe := func(template string) int {
		return ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/probe", bearer: noAdminSecret,
			body: fmt.Sprintf(`{"parent":"team-a","subjectTemplate":%q}`, template)})
	}
	used := probe("{spacePath}:{callerId}:t7:{scope}") // space t7, under root, hidden from the key
	fresh := probe("{spacePath}:{callerId}:never-used:{scope}")
	if used != 403 || fresh != 403 {
		t.Errorf("PUT of a space by a key without space:admin: %d with a template a hidden space uses, %d with an unused one; want 403 for both", used, fresh)
	}
}
