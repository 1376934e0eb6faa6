package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestIfMatchListCapped checks that an If-Match list of MaxIfMatchTags entity tags is read, and
// one of more is refused (400) before its tags are compared: thousands of distinct tags fit in
// a header, and comparing each with those before it costs a request's CPU many times over.
func TestIfMatchListCapped(t *testing.T) {
	tags := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf("%q", fmt.Sprint(i+1))
		}
		return strings.Join(list, ", ")
	}
	for _, tc := range []struct {
		n   int
		bad bool
	}{
		{MaxIfMatchTags, false},
		{MaxIfMatchTags + 1, true},
		{9000, true},
	} {
		pre, err := ifMatch(&http.Request{Header: http.Header{"If-Match": {tags(tc.n)}}})
		switch {
		case tc.bad && err == nil:
			t.Errorf("If-Match of %d tags = %d versions, want a 400", tc.n, len(pre.oneOf))
		case !tc.bad && (err != nil || len(pre.oneOf) != tc.n):
			t.Errorf("If-Match of %d tags = %d versions, %v; want %d", tc.n, len(pre.oneOf), err, tc.n)
		}
	}
}
