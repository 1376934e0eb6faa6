package awsemu

import (
	"net/http"
	"testing"
)

// TestAssumeRoleTagNeedsValue: a session tag's Value is required: Tags.member.1.Key without
// Tags.member.1.Value is a 400 ValidationError naming the value, while an empty Value is a tag
// with an empty value.
func TestAssumeRoleTagNeedsValue(t *testing.T) {
	f := newFixture(t)
	p := assumeParams(externalID)
	p.Set("Tags.member.1.Key", "team")
	status, body := f.send(t, signed{params: p})
	expectAnswer(t, status, body, http.StatusBadRequest, "ValidationError", "'tags.1.member.value' failed to satisfy constraint: Member must not be null")
	if got := lastCall(t, f.emu).Outcome; got != "ValidationError" {
		t.Errorf("the refused request's outcome = %q, want ValidationError", got)
	}

	p.Set("Tags.member.1.Value", "")
	status, body = f.send(t, signed{params: p})
	expectAnswer(t, status, body, http.StatusOK, "", "")
	if tags := lastCall(t, f.emu).SessionTags; len(tags) != 1 || tags["team"] != "" {
		t.Errorf("session tags = %v, want team with an empty value", tags)
	}
}
