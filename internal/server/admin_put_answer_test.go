package server

import "testing"

// A PUT answers the object as GET shows the version it made: with the defaults the catalog gave
// it (an integration's timeout), not as the body gave it. On the old code the PUT answer of an
// integration without a timeout lacked the "timeout" GET showed at the same version.
func TestPutAnswersTheObjectAsStored(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, o := range []struct{ path, body string }{
		{"/v1/integrations/aws-plain", `{"space":"root","aws":{"roleArn":"arn:aws:iam::123456789012:role/plain"}}`},
		{"/v1/spaces/plain", `{"parent":"root"}`},
		{"/v1/stacks/plain", `{"space":"plain"}`},
		{"/v1/roles/plain", `{"actions":["run:read"]}`},
	} {
		put := ts.admin(t, "PUT", o.path, o.body)
		put.expect(t, "PUT "+o.path, 201)
		get := ts.admin(t, "GET", o.path, "")
		get.expect(t, "GET "+o.path, 200)
		if put.etag != get.etag || put.body != get.body {
			t.Errorf("%s: PUT answered ETag %s %s\nGET answers ETag %s %s", o.path, put.etag, put.body, get.etag, get.body)
		}
	}
}
