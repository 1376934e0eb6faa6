package claims

import (
	"encoding/json"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestRenderKeepsLiteralTextAsWritten pins that a template's literal text is copied into
// the `sub` byte for byte, case included: a trust policy matching "Org:..." must see "Org:".
// Guards against: literal text lower-cased in Render, subject.go:Template.Render
func TestRenderKeepsLiteralTextAsWritten(t *testing.T) {
	tmpl, err := ParseTemplate("Org-X:{spaceId}:Stack:{callerId}:Scope:{scope}")
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Render(Subject{SpaceID: "prod", CallerID: "vpc", Run: runs.Run{Scope: runs.Read}})
	if want := "Org-X:prod:Stack:vpc:Scope:read"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

// TestEmptyPrincipalTagsEncodeAsEncodingJSON pins that AWS session tags with an empty,
// non-nil tag map encode as an empty object, exactly as encoding/json writes them, not as null.
// Guards against: empty principal_tags map written as null, encode.go:AWSTags.appendJSON
func TestEmptyPrincipalTagsEncodeAsEncodingJSON(t *testing.T) {
	for _, tags := range []*AWSTags{
		{PrincipalTags: map[string][]string{}},
		{PrincipalTags: map[string][]string{}, TransitiveTagKeys: []string{"k"}},
	} {
		c := Claims{Issuer: "https://broker.test", AWSTags: tags}
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("AppendJSON = %s\nwant        %s", got, want)
		}
	}
}
