package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestLeafAdminCannotSpendTheTemplateCap: a key holding space:admin on team-a alone creates
// spaces under team-a, each with a template of its own, until the API refuses one (400 naming
// subjectTemplate). It is refused well short of the catalog's cap, so the administrator of the
// sibling team-b, under team-b, and the root admin, under root, may still add a template. On the old code the leaf admin filled the catalog's whole cap and both were refused.
func TestLeafAdminCannotSpendTheTemplateCap(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	put := func(secret, path, body string) (int, envelope) {
		var env envelope
		code := ts.call(t, apiRequest{method: "PUT", path: path, bearer: secret, body: body, out: &env})
		return code, env
	}

	created := -1
	for i := 0; i <= config.MaxSubjectTemplates; i++ {
		code, env := put(hereSecret, fmt.Sprintf("/v1/spaces/leaf-%d", i),
			fmt.Sprintf(`{"parent":"team-a","subjectTemplate":"{spacePath}:{callerId}:leaf-%d:{scope}"}`, i))
		if code == 400 {
			if env.Error.Code != "invalid_request" || !strings.Contains(env.Error.Message, `"subjectTemplate"`) {
				t.Fatalf("leaf admin's refusal at space leaf-%d: %s %q, want invalid_request naming subjectTemplate", i, env.Error.Code, env.Error.Message)
			}
			t.Logf("leaf admin refused at space leaf-%d: %s", i, env.Error.Message)
			created = i
			break
		}
		if code != 201 {
			t.Fatalf("leaf admin's space leaf-%d: %d %s", i, code, env.Error.Message)
		}
	}
	if created < 0 {
		t.Fatal("the leaf admin was never refused")
	}
	if d := distinctTemplates(t, ts); d >= config.MaxSubjectTemplates {
		t.Errorf("the leaf admin alone brought the spaces to %d distinct templates, the cap is %d", d, config.MaxSubjectTemplates)
	}

	// The leaf admin may still reuse one of its templates, and create a space with the default.
	if code, env := put(hereSecret, "/v1/spaces/leaf-reuse", `{"parent":"team-a","subjectTemplate":"{spacePath}:{callerId}:leaf-0:{scope}"}`); code != 201 {
		t.Errorf("leaf admin reusing its template: %d %s, want 201", code, env.Error.Message)
	}
	if code, env := put(hereSecret, "/v1/spaces/leaf-plain", `{"parent":"team-a"}`); code != 201 {
		t.Errorf("leaf admin creating a space with the default template: %d %s, want 201", code, env.Error.Message)
	}

	// Another team's administrator adds a space with a new template under its own space.
	if code, env := put(siblingSecret, "/v1/spaces/b-app", `{"parent":"team-b","subjectTemplate":"{spacePath}:{callerId}:b-app:{scope}"}`); code != 201 {
		t.Errorf("team-b's admin adding a space with a new template under team-b: %d %s, want 201", code, env.Error.Message)
	}
	// The root admin adds a space with a new template of its own.
	ts.admin(t, "PUT", "/v1/spaces/ops", `{"parent":"root","subjectTemplate":"{spacePath}:{callerId}:ops:{scope}"}`).expect(t, "root admin's new template", 201)
}

// TestCopiedTemplatesCountInTheShare: a leaf admin (space:admin on team-a alone) copies, into
// spaces of its own, the template a root-level space holds; each time that space's admin then
// replaces its template, the copy keeps the old one alive. The copies count in team-a's share,
// so team-a never holds more than its share and the root admin can always replace its own
// space's template. On the old code a copy skipped the share: team-a reached 98 templates and
// the catalog its cap.
func TestCopiedTemplatesCountInTheShare(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	tmpl := func(i int) string { return fmt.Sprintf("{spacePath}:{callerId}:ops-%d:{scope}", i) }
	ts.admin(t, "PUT", "/v1/spaces/ops", fmt.Sprintf(`{"parent":"root","subjectTemplate":%q}`, tmpl(0))).expect(t, "ops", 201)
	refusedAt := -1
	for i := 0; i < config.MaxSubjectTemplates; i++ {
		// team-a's admin copies the template ops holds now.
		var copied envelope
		switch code := ts.call(t, apiRequest{method: "PUT", path: fmt.Sprintf("/v1/spaces/pin-%d", i), bearer: hereSecret,
			body: fmt.Sprintf(`{"parent":"team-a","subjectTemplate":%q}`, tmpl(i)), out: &copied}); {
		case code == 201:
		case code == 400 && strings.Contains(copied.Error.Message, `"subjectTemplate"`):
		default:
			t.Fatalf("team-a copying ops's template %d: %d %s, want 201 or a refusal naming subjectTemplate", i, code, copied.Error.Message)
		}
		// The root admin replaces ops's own template.
		var env envelope
		code := ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/ops", bearer: rootAdminSecret,
			body: fmt.Sprintf(`{"parent":"root","subjectTemplate":%q}`, tmpl(i+1)), out: &env})
		if code != 200 {
			refusedAt = i
			t.Logf("root admin refused at round %d: %d %s", i, code, env.Error.Message)
			break
		}
	}
	checkTeamAWithinShare(t, ts)
	if refusedAt >= 0 {
		t.Errorf("the catalog reached its cap through the leaf admin's copies: the root admin could not replace its own space's template (round %d)", refusedAt)
	}
}

// TestMovedSpacesCountInTheShare: a key holding space:admin on team-a (share 25, prod's being
// 50) and on dev creates spaces under dev, each with a template of its own, then moves them
// under team-a. A move counts the space's templates in its new ancestors' shares: team-a stays
// within its share, and team-b's admin, who never spent any, may still add a template. On the
// old code a move, keeping its template, skipped the share.
func TestMovedSpacesCountInTheShare(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	var created struct{ Secret string }
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/api-keys", bearer: rootAdminSecret,
		body: `{"id":"two","bindings":[{"role":"admin","space":"team-a"},{"role":"admin","space":"dev"}]}`, out: &created}); code != 201 {
		t.Fatalf("creating the key: %d", code)
	}
	two := created.Secret
	tmpl := func(i int) string { return fmt.Sprintf("{spacePath}:{callerId}:mv-%d:{scope}", i) }
	n := config.SubtreeTemplateShare(1) // prod's share
	for i := range n {
		path := fmt.Sprintf("/v1/spaces/mv-%d", i)
		if code := ts.call(t, apiRequest{method: "PUT", path: path, bearer: two,
			body: fmt.Sprintf(`{"parent":"dev","subjectTemplate":%q}`, tmpl(i))}); code != 201 {
			t.Fatalf("creating %s under dev: %d", path, code)
		}
		var env envelope
		if code := ts.call(t, apiRequest{method: "PUT", path: path, bearer: two,
			body: fmt.Sprintf(`{"parent":"team-a","subjectTemplate":%q}`, tmpl(i)), out: &env}); code != 200 {
			t.Logf("moving %s under team-a refused: %d %s", path, code, env.Error.Message)
			break
		}
	}
	checkTeamAWithinShare(t, ts)
	var env envelope
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/spaces/b-new", bearer: siblingSecret,
		body: `{"parent":"team-b","subjectTemplate":"{spacePath}:{callerId}:b-new:{scope}"}`, out: &env}); code != 201 {
		t.Errorf("team-b's admin adding its first template under team-b: %d %s, want 201", code, env.Error.Message)
	}
}

// checkTeamAWithinShare fails when team-a's subtree holds more distinct non-default templates
// than the share of a space two levels below root.
func checkTeamAWithinShare(t *testing.T, ts *testServer) {
	t.Helper()
	var list struct {
		Spaces []struct{ SubjectTemplate string } `json:"spaces"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/spaces?space=team-a", bearer: rootAdminSecret, out: &list})
	held := map[string]bool{}
	for _, s := range list.Spaces {
		if st := config.EffectiveSubjectTemplate(s.SubjectTemplate); st != config.DefaultSubjectTemplate {
			held[st] = true
		}
	}
	if share := config.SubtreeTemplateShare(2); len(held) > share {
		t.Errorf("team-a's subtree holds %d distinct templates through the API, its share is %d", len(held), share)
	}
}
