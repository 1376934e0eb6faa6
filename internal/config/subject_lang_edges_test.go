package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestTrustPatternWildcards checks the AWS StringLike reading of a trust pattern when
// looking for another stack's sub: "*" matches any text, the empty text included, and "?"
// matches exactly one character, never none.
// Guards against: "*" made to match at least one character (wildcard without its empty path)
// Guards against: "?" made to match one character or none
func TestTrustPatternWildcards(t *testing.T) {
	owner := SubjectOwner{CallerID: "s1", Scope: "write"}
	for _, c := range []struct {
		name, pattern string
		match         bool
	}{
		// only an empty "*" makes this stack a's sub
		{"empty star", "space:root:stack:a:*run_type:TRACKED:scope:write", true},
		// "spa?ce" needs a character between "spa" and "ce", which no sub has
		{"question mark is one character", "spa?ce:root:stack:*:run_type:TRACKED:scope:write", false},
		{"question mark fills one character", "spac?:root:stack:*:run_type:TRACKED:scope:write", true},
	} {
		_, ex, got := SubjectsMatchOther([]string{c.pattern}, "", owner)
		if got != c.match {
			t.Errorf("%s: %q matches another stack's sub = %v (%q), want %v",
				c.name, c.pattern, got, ex, c.match)
		}
	}
}

// TestEmptyOwnerIsNoValue checks that an empty caller id is no value of {callerId}: it is
// refused as a value, and an owner without one leaves every stack's sub "another's".
// Guards against: valueChars.accepts without its empty-value check (panics on "")
func TestEmptyOwnerIsNoValue(t *testing.T) {
	if SubjectValueAllowed("callerId", "") {
		t.Errorf("an empty caller id accepted as a value")
	}
	_, _, ok := SubjectsMatchOther([]string{"space:root:stack:s1:run_type:TRACKED:scope:write"}, "",
		SubjectOwner{Scope: "write"})
	if !ok {
		t.Errorf("with no owner caller id, stack s1's sub was not found to be another's")
	}
}

// TestOverlapMemoBounded checks that the memo of template-overlap answers holds at most
// maxOverlapMemo answers: past it, it starts afresh.
// Guards against: overlapMemo.put never starting afresh (unbounded memo)
func TestOverlapMemoBounded(t *testing.T) {
	var o overlapMemo
	for i := range maxOverlapMemo + 1 {
		o.put(fmt.Sprint(i), overlapResult{})
	}
	if n := len(o.m); n > maxOverlapMemo {
		t.Errorf("memo holds %d answers, want at most %d", n, maxOverlapMemo)
	}
	if _, ok := o.get(fmt.Sprint(maxOverlapMemo)); !ok {
		t.Errorf("the answer put last is not remembered")
	}
}

// TestOverlapMemoTellsBracesFromText checks that the remembered overlap answers tell a
// placeholder from literal text of the same letters: "{scope}:{callerId}:q7" overlaps
// "{callerId}:{scope}:q7" (stack write's read sub is stack read's write sub), while the
// literal "scope:callerId:q7" does not ('I' is no scope letter), asked in either order.
// Guards against: memo key written without the placeholders' braces
func TestOverlapMemoTellsBracesFromText(t *testing.T) {
	const held = "{callerId}:{scope}:q7"
	for _, order := range [][]string{
		{"scope:callerId:q7", "{scope}:{callerId}:q7"},
		{"{scope}:{callerId}:q7", "scope:callerId:q7"},
	} {
		for _, o := range order {
			want := o == "{scope}:{callerId}:q7"
			if _, got := SubjectTemplateOverlapsAny(held, []string{o}); got != want {
				t.Errorf("order %q: %q overlaps %q = %v, want %v", order, held, o, got, want)
			}
		}
	}
}

// TestValueStartsWithItsFirstAlphabet checks that a placeholder value starts with a
// character of its first alphabet: no stack id starts with '-', so a pattern naming only such
// stacks matches no sub, of another stack or of the owner's other scope.
// Guards against: value's first character drawn from the rest alphabet
func TestValueStartsWithItsFirstAlphabet(t *testing.T) {
	owner := SubjectOwner{CallerID: "s1", Scope: "write"}
	p := []string{
		"space:root:stack:-*:run_type:TRACKED:scope:write",
		"space:root:stack:-*:run_type:TRACKED:scope:read",
	}
	if pat, ex, ok := SubjectsMatchOther(p, "", owner); ok {
		t.Errorf("%q found to match %q, a sub of a stack id starting with '-'", pat, ex)
	}
}

// TestOtherScopeOfTheOwnerFound checks that a pattern matching the owner's sub at the
// other scope is found: the read runs of a stack must not get its write role.
// Guards against: SubjectsMatchOther looking only for other stacks, not the other scope
func TestOtherScopeOfTheOwnerFound(t *testing.T) {
	owner := SubjectOwner{CallerID: "s1", Scope: "write"}
	p := []string{"space:root:stack:s1:run_type:*:scope:*"}
	_, ex, ok := SubjectsMatchOther(p, "", owner)
	if !ok {
		t.Fatalf("%q not found to match stack s1's read sub", p[0])
	}
	if !strings.HasPrefix(ex, "space:root:stack:s1:") || strings.HasSuffix(ex, ":scope:write") {
		t.Errorf("example %q is not a sub of stack s1 at another scope", ex)
	}
}

// TestExampleSubsReadWell checks that the example sub an overlap reports is built of the
// most readable characters a value may hold: lower-case letters before digits and '-'.
// Guards against: pick without its readable order (first byte in byte order)
func TestExampleSubsReadWell(t *testing.T) {
	owner := SubjectOwner{CallerID: "s1", Scope: "write"}
	p := []string{"space:root:stack:*:run_type:TRACKED:scope:write"}
	_, ex, _ := SubjectsMatchOther(p, "", owner)
	if want := "space:root:stack:a:run_type:TRACKED:scope:write"; ex != want {
		t.Errorf("example %q, want %q", ex, want)
	}
}
