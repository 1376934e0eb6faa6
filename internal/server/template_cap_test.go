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
	refused := fillTemplates(t, ts)
	if d := distinctTemplates(t, ts); d != config.MaxSubjectTemplates {
		t.Fatalf("refused at space t%d with %d distinct templates, want a refusal at %d", refused, d, config.MaxSubjectTemplates)
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
