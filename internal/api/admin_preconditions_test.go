package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
)

// FuzzIfMatch: any If-Match header is either refused with 400 in the envelope or read as
// preconditions; a header holding the ETag "N" of a version among well-formed tags names N, and
// one of only weak or non-version tags never matches.
func FuzzIfMatch(f *testing.F) {
	for _, seed := range []string{`"3"`, `W/"3"`, `"1", "2"`, `"a,b"`, ` , `, `*`, `"7", ,"9"`, `3`, `"003"`, `"`, `W/3`} {
		f.Add(seed, int64(3))
	}
	f.Fuzz(func(t *testing.T, header string, version int64) {
		r := &http.Request{Header: http.Header{"If-Match": {header}}}
		pre, err := ifMatch(r)
		if err != nil {
			var e *apierror.Error
			if !errors.As(err, &e) || e.Code != apierror.CodeInvalidRequest {
				t.Fatalf("If-Match %q: %v, want a 400", header, err)
			}
			return
		}
		if version < 1 || pre.ifMatch == catalog.AnyVersion {
			return // "*" stands alone: in a list it is refused
		}
		etag := `"` + strconv.FormatInt(version, 10) + `"`
		r.Header["If-Match"] = []string{etag, header}
		both, err := ifMatch(r)
		if err != nil {
			t.Fatalf("If-Match %q then %q: %v, but %q alone was read", etag, header, err, header)
		}
		if both.ifMatch != version && !slices.Contains(both.oneOf, version) {
			t.Fatalf("If-Match %q, %q = %+v: does not name %d", etag, header, both, version)
		}
	})
}
