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
