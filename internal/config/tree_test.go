package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// chainOf is root and n-1 spaces each under the one before: n levels deep.
func chainOf(n int) []Space {
	spaces := []Space{{ID: RootSpace}}
	for i := 1; i < n; i++ {
		spaces = append(spaces, Space{ID: fmt.Sprintf("s%d", i), Parent: spaces[i-1].ID})
	}
	return spaces
}

// TestSpaceTree: spaces nest at most MaxSpaceDepth deep, and the first space past it on each
// branch is reported, once; a cycle is reported once, at its first space in file order, also
// when a space before it hangs below it.
func TestSpaceTree(t *testing.T) {
	deep := chainOf(MaxSpaceDepth + 3)
	forked := append(chainOf(MaxSpaceDepth+1), Space{ID: "fork", Parent: fmt.Sprintf("s%d", MaxSpaceDepth-1)})
	for _, tc := range []struct {
		name   string
		spaces []Space
		want   []string
	}{
		{"as deep as allowed", chainOf(MaxSpaceDepth), nil},
		{"deeper", deep, []string{fmt.Sprintf(`spaces[%d].parent: space "s%d" would be %d levels deep; spaces nest at most %d deep (root is 1)`,
			MaxSpaceDepth, MaxSpaceDepth, MaxSpaceDepth+1, MaxSpaceDepth)}},
		{"two branches too deep", forked, []string{
			fmt.Sprintf(`spaces[%d].parent: space "s%d" would be`, MaxSpaceDepth, MaxSpaceDepth),
			fmt.Sprintf(`spaces[%d].parent: space "fork" would be`, MaxSpaceDepth+1),
		}},
		{"cycle below a space", []Space{{ID: RootSpace}, {ID: "a", Parent: "b"}, {ID: "b", Parent: "c"}, {ID: "c", Parent: "b"}},
			[]string{`spaces[2].parent: parent cycle: b -> c -> b`}},
		{"cycle first in file order", []Space{{ID: RootSpace}, {ID: "c", Parent: "b"}, {ID: "b", Parent: "c"}},
			[]string{`spaces[1].parent: parent cycle: c -> b -> c`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{Issuer: "https://b.example.com", Spaces: tc.spaces}
			c.ApplyDefaults()
			err := c.Validate()
			var errs Errors
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &errs) || len(errs) != len(tc.want) {
				t.Fatalf("Validate() = %v, want %d problems", err, len(tc.want))
			}
			for i, w := range tc.want {
				if got := errs[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("problem %d = %q, want it to start %q", i, got, w)
				}
			}
		})
	}
}

// TestSpaceLookupsOnUncheckedObjects pins the space lookups on objects no validation has
// passed (the API runs them on stored objects): a space that does not reach root has no path,
// a parent cycle ends the walk with no path instead of looping, and of two spaces with one id
// the first is the one used.
// Guards against: root check dropped in refs.go:SpacePath
// Guards against: cycle check dropped in refs.go:SpacePath
// Guards against: last duplicate wins in refs.go:spaceIndex
func TestSpaceLookupsOnUncheckedObjects(t *testing.T) {
	orphan := &Config{Spaces: []Space{{ID: RootSpace}, {ID: "orphan"}, {ID: "kid", Parent: "orphan"}}}
	if p := orphan.SpacePath("kid"); p != nil {
		t.Errorf("SpacePath of a space under a parentless non-root space = %v, want nil", p)
	}
	if orphan.IsWithin("kid", "orphan") {
		t.Error("IsWithin holds for a space that does not reach root")
	}

	cycle := &Config{Spaces: []Space{{ID: RootSpace}, {ID: "a", Parent: "b"}, {ID: "b", Parent: "a"}}}
	done := make(chan []string, 1)
	go func() { done <- cycle.SpacePath("a") }()
	select {
	case p := <-done:
		if p != nil {
			t.Errorf("SpacePath in a parent cycle = %v, want nil", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SpacePath in a parent cycle does not return")
	}

	dup := &Config{Spaces: []Space{{ID: RootSpace}, {ID: "a", Parent: RootSpace}, {ID: "a", Parent: RootSpace, Inherit: true}}}
	if got := dup.UsableSpaces("a"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("UsableSpaces with a repeated id = %v, want [a] (the first space a)", got)
	}
}
