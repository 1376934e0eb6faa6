package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// envelopeBody is the body of w, which must hold an error envelope.
func envelopeBody(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if envelopeCode(w) == "" {
		t.Fatalf("answer %d %s holds no error envelope", w.Code, w.Body)
	}
	return w.Body.String()
}

// TestAdminBodyCapWithoutLength pins the administration handlers' own 64 KiB cap, which
// holds without the router in front: a body one byte over it sent without a Content-Length
// (chunked) is 413 too_large, neither read whole nor a 400, and nothing is attached.
// Guards against: admin.go:readBody MaxBytesReader limit MaxBodyBytes+1
// Guards against: admin.go:readBody answers a *http.MaxBytesError with 400
func TestAdminBodyCapWithoutLength(t *testing.T) {
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: catalog.NewMemory(), File: attachFile()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(context.Background(), catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"}, Object: config.Stack{ID: "app", Space: "team-a"}}); err != nil {
		t.Fatal(err)
	}
	body := `{"read":true}`
	body += strings.Repeat(" ", MaxBodyBytes+1-len(body))
	r := httptest.NewRequest(http.MethodPut, "/v1/stacks/app/attachments/aws-p", strings.NewReader(body))
	r.ContentLength = -1
	r.SetPathValue("id", "app")
	r.SetPathValue("integration", "aws-p")
	w := httptest.NewRecorder()
	(&attachHandler{admin: NewAdmin(AdminConfig{Catalog: m, Auth: fixedKeyAuth{key: "here"}})}).put(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || envelopeCode(w) != "too_large" {
		t.Errorf("PUT of a %d-byte body without Content-Length: %d %s, want 413 too_large", len(body), w.Code, w.Body)
	}
	if m.Live().Load().Attached("app", "aws-p") {
		t.Error("the attachment of a body over the cap was made")
	}
}

// TestAdminBlankBody pins that a body of only JSON white space is refused as absent: 400
// saying a JSON body is required.
// Guards against: admin.go:readBody drops the blank-body check
func TestAdminBlankBody(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	w := e.put("boss", "/v1/stacks/app", " \r\n\t ")
	if w.Code != http.StatusBadRequest || !strings.Contains(envelopeBody(t, w), "A JSON request body is required") {
		t.Errorf("PUT of a blank body: %d %s, want 400 saying a JSON body is required", w.Code, w.Body)
	}
}

// TestAdminRefusalHidesUnreadableSpace pins that a key refused space:admin on a space it
// holds no binding on is not told the space's name (403 all the same).
// Guards against: admin.go:requireAdmin names a space the key cannot see
func TestAdminRefusalHidesUnreadableSpace(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	w := e.put("a-admin", "/v1/integrations/aws-x", `{"space":"team-b","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`)
	if w.Code != http.StatusForbidden || strings.Contains(envelopeBody(t, w), "team-b") {
		t.Errorf("a-admin putting an integration in team-b: %d %s, want 403 not naming team-b", w.Code, w.Body)
	}
}

// TestAdminProblemsListed pins that a body's problems are listed up to ten, the rest
// counted ("and N more"), and that exactly ten are listed with no count.
// Guards against: admin.go:decodeObject lists every problem
// Guards against: admin.go:decodeObject says "and 0 more" at exactly ten
func TestAdminProblemsListed(t *testing.T) {
	e := newAdminEnv(t, adminTestFile(), &keptEvents{})
	body := func(n int) string {
		fields := []string{`"space":"team-a"`}
		for i := range n {
			fields = append(fields, fmt.Sprintf(`"bogus%02d":1`, i))
		}
		return "{" + strings.Join(fields, ",") + "}"
	}
	w := e.put("boss", "/v1/stacks/app", body(12))
	msg := envelopeBody(t, w)
	if w.Code != http.StatusBadRequest || !strings.Contains(msg, "and 2 more") || strings.Contains(msg, "bogus11") {
		t.Errorf("PUT with 12 unknown fields: %d %s, want 400 listing ten and \"and 2 more\"", w.Code, w.Body)
	}
	w = e.put("boss", "/v1/stacks/app", body(10))
	if msg := envelopeBody(t, w); w.Code != http.StatusBadRequest || strings.Contains(msg, "more") || !strings.Contains(msg, "bogus09") {
		t.Errorf("PUT with 10 unknown fields: %d %s, want 400 listing all ten", w.Code, w.Body)
	}
}
