package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestAPIAddsNoTemplatePastTheCap: with the spaces holding config.MaxSubjectTemplates distinct
// subject templates (the default among them), a PUT of a space with a template of its
// own is 400 naming subjectTemplate, while one reusing a template, or replacing a space's own
// template with a new one, is taken: every change compares every pair of templates.
func TestAPIAddsNoTemplatePastTheCap(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig, quiet: true})
	refused := -1
	for i := 0; i <= config.MaxSubjectTemplates && refused < 0; i++ {
		body := fmt.Sprintf(`{"parent":"root","subjectTemplate":"{spacePath}:{callerId}:t%d:{scope}"}`, i)
		if a := ts.admin(t, "PUT", fmt.Sprintf("/v1/spaces/t%d", i), body); a.code == 400 {
			refused = i
		} else if a.code != 201 {
			t.Fatalf("space t%d: %d %s", i, a.code, a.body)
		}
	}
	var list struct {
		Spaces []struct{ SubjectTemplate string } `json:"spaces"`
	}
	ts.call(t, apiRequest{method: "GET", path: "/v1/spaces", bearer: rootAdminSecret, out: &list})
	distinct := map[string]bool{}
	for _, sp := range list.Spaces {
		distinct[config.EffectiveSubjectTemplate(sp.SubjectTemplate)] = true
	}
	if refused < 0 || len(distinct) != config.MaxSubjectTemplates {
		t.Fatalf("refused at space t%d with %d distinct templates, want a refusal at %d", refused, len(distinct), config.MaxSubjectTemplates)
	}
	for _, c := range []struct {
		path, template string
		want           int
	}{
		{"/v1/spaces/fresh", "{spacePath}:{callerId}:fresh:{scope}", 400},
		{"/v1/spaces/reuse", "{spacePath}:{callerId}:t7:{scope}", 201},
		{"/v1/spaces/plain", "", 201},
		{"/v1/spaces/t3", "{spacePath}:{callerId}:t3-new:{scope}", 200}, // t3's own template replaced
	} {
		a := ts.admin(t, "PUT", c.path, fmt.Sprintf(`{"parent":"root","subjectTemplate":%q}`, c.template))
		if a.code != c.want || c.want == 400 && (a.err.Error.Code != "invalid_request" || !strings.Contains(a.err.Error.Message, `"subjectTemplate"`)) {
			t.Errorf("PUT %s with %q: %d %s, want %d", c.path, c.template, a.code, a.body, c.want)
		}
	}
}
