package api

import (
	"net/http"
	"testing"
)

// TestNarrowingInStepsNeedsRunRights: a stack attached for write to a cloud identity, whose
// attachment then leaves by a change space:admin alone may make (the attachment deleted, or its
// stack deleted), gives that identity's trust to no read-scope token of the space without the
// run rights: attaching the identity for read afterwards (the same integration, or another
// granting the same role, to the same stack or a new one) takes run:create and run:update where
// the write stack was, as narrowing the attachment in one step does. A key holding them is let.
// Guards against: admin_write.go:newReadIntoWriteSpaces counting only the identities attached
// for write before and after the change, not those the store records
func TestNarrowingInStepsNeedsRunRights(t *testing.T) {
	type step struct{ method, path, body string }
	for _, tc := range []struct {
		name  string
		leave step
		read  []step
	}{
		{name: "attachment deleted, same integration attached for read",
			leave: step{"DELETE", "/v1/stacks/app/attachments/aws-w", ""},
			read:  []step{{"PUT", "/v1/stacks/app/attachments/aws-w", `{"read":true}`}}},
		{name: "stack deleted, a new stack attached for read",
			leave: step{"DELETE", "/v1/stacks/app", ""},
			read: []step{{"PUT", "/v1/stacks/app-new", `{"space":"team-a"}`},
				{"PUT", "/v1/stacks/app-new/attachments/aws-w", `{"read":true}`}}},
		{name: "attachment deleted, another integration of the same role attached for read",
			leave: step{"DELETE", "/v1/stacks/app/attachments/aws-w", ""},
			read: []step{{"PUT", "/v1/integrations/aws-w2", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/path/W"}}`},
				{"PUT", "/v1/stacks/app/attachments/aws-w2", `{"read":true}`}}},
	} {
		for _, key := range []string{"a-admin", "a-all"} {
			t.Run(tc.name+" by "+key, func(t *testing.T) {
				e := newAdminEnv(t, adminTestFile(), &keptEvents{})
				for _, s := range []step{
					{"PUT", "/v1/stacks/app", `{"space":"team-a"}`},
					{"PUT", "/v1/integrations/aws-w", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`},
					{"PUT", "/v1/stacks/app/attachments/aws-w", `{"write":true}`},
				} {
					if w := e.put("boss", s.path, s.body); w.Code != http.StatusCreated {
						t.Fatalf("setup PUT %s: %d %s", s.path, w.Code, w.Body)
					}
				}
				if w := e.del(key, tc.leave.path); w.Code != http.StatusNoContent {
					t.Fatalf("%s %s by %s (space:admin suffices): %d %s", tc.leave.method, tc.leave.path, key, w.Code, w.Body)
				}
				last := tc.read[len(tc.read)-1]
				for _, s := range tc.read[:len(tc.read)-1] {
					if w := e.put(key, s.path, s.body); w.Code != http.StatusCreated {
						t.Fatalf("PUT %s by %s: %d %s", s.path, key, w.Code, w.Body)
					}
				}
				w := e.put(key, last.path, last.body)
				if key == "a-admin" && (w.Code != http.StatusForbidden || envelopeCode(w) != "forbidden") {
					t.Errorf("PUT %s %s by a key without the run rights: %d %s, want 403 forbidden", last.path, last.body, w.Code, w.Body)
				}
				if key == "a-all" && w.Code != http.StatusCreated {
					t.Errorf("PUT %s %s by a key with the run rights: %d %s, want 201", last.path, last.body, w.Code, w.Body)
				}
			})
		}
	}
}
