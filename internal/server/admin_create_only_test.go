package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAdminPutIfNoneMatchCreatesOnly: a PUT with If-None-Match: * creates the object, and on an
// object that exists answers 412 and changes nothing, so that two admins creating one id cannot
// overwrite each other; any other If-None-Match, or one sent with If-Match, is 400.
func TestAdminPutIfNoneMatchCreatesOnly(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	put := func(path, body string, headers map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("PUT", ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+rootAdminSecret)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(raw))
	}
	createOnly := map[string]string{"If-None-Match": "*"}
	for _, tc := range []struct{ path, first, second, kept string }{
		{"/v1/stacks/web", `{"space":"prod","labels":["keep"]}`, `{"space":"prod"}`, `"labels":["keep"]`},
		{"/v1/roles/viewer", `{"actions":["run:read","audit:read"]}`, `{"actions":["run:read"]}`, `"audit:read"`},
	} {
		if code, body := put(tc.path, tc.first, createOnly); code != http.StatusCreated {
			t.Fatalf("PUT %s with If-None-Match: * on no object: %d %s, want 201", tc.path, code, body)
		}
		if code, body := put(tc.path, tc.second, createOnly); code != http.StatusPreconditionFailed || !strings.Contains(body, "exists") {
			t.Errorf("PUT %s with If-None-Match: * on an existing object: %d %s, want 412 saying it exists", tc.path, code, body)
		}
		ts.admin(t, "GET", tc.path, "").expect(t, "after a refused create-only PUT", 200, tc.kept)
	}
	for name, h := range map[string]map[string]string{
		"an entity tag":          {"If-None-Match": `"1"`},
		"together with If-Match": {"If-None-Match": "*", "If-Match": `"1"`},
	} {
		if code, body := put("/v1/stacks/web", `{"space":"prod"}`, h); code != http.StatusBadRequest {
			t.Errorf("PUT with If-None-Match %s: %d %s, want 400", name, code, body)
		}
	}
	ts.admin(t, "GET", "/v1/stacks/web", "").expect(t, "after refused PUTs", 200, `"labels":["keep"]`)
}
