package catalog

import (
	"errors"
	"testing"
)

// TestSeenWithoutDigestsStillDeclares: a record of the file as seen written by a release
// that kept no digests still declares the stacks, spaces and API keys it lists, so the API does
// not create an object under an id another replica's file declares: above all an API key,
// whose id would then name two secrets across replicas.
// Guards against: fileSeen.declares ignores the API keys map (seen.go:fileSeen.declares)
func TestSeenWithoutDigestsStillDeclares(t *testing.T) {
	seen := fileSeen{
		Stacks:  map[string]string{"web": "prod"},
		Spaces:  map[string]string{"team": "prod"},
		APIKeys: map[string]string{"deploy": "print"},
	}
	v := Versioned{seen: &seen}
	for _, r := range []Ref{{Kind: KindStack, ID: "web"}, {Kind: KindSpace, ID: "team"}, {Kind: KindAPIKey, ID: "deploy"}} {
		if err := v.declaredInSeen(r); !errors.Is(err, ErrConflict) {
			t.Errorf("%s, listed in a record without digests: %v, want a conflict", r, err)
		}
	}
	if err := v.declaredInSeen(Ref{Kind: KindAPIKey, ID: "other"}); err != nil {
		t.Errorf("an API key the record does not list: %v, want none", err)
	}
}
