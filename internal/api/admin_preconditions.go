package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
)

// preconditions are a change's If-Match or If-None-Match as catalog.Mutation takes them.
type preconditions struct {
	// ifMatch is Mutation.IfMatch, oneOf Mutation.IfMatchOneOf.
	ifMatch int64
	oneOf   []int64
}

// on returns mu with p.
func (p preconditions) on(mu catalog.Mutation) catalog.Mutation {
	mu.IfMatch, mu.IfMatchOneOf = p.ifMatch, p.oneOf
	return mu
}

// ifMatch reads the If-Match header (its lines joined, as one list): nothing when absent,
// catalog.AnyVersion for "*", else the versions its entity tags name, as ETag gives them ("3"; a
// bare 3 is taken too). A weak tag never matches (If-Match compares strongly), nor a quoted tag
// that is not a version: a header of only such tags is catalog.NeverVersion (412 once the change
// is checked). If-None-Match: * (alone) is catalog.NoVersion. Anything else, an empty header
// included, is 400.
func ifMatch(r *http.Request) (preconditions, error) {
	lines, set := r.Header["If-Match"]
	h := strings.TrimSpace(strings.Join(lines, ","))
	if set && h == "" {
		return preconditions{}, apierror.New(apierror.CodeInvalidRequest, "If-Match is empty: send the object's ETag, such as \"3\", or *.")
	}
	if noneLines, set := r.Header["If-None-Match"]; set {
		switch none := strings.TrimSpace(strings.Join(noneLines, ",")); {
		case h != "":
			return preconditions{}, apierror.New(apierror.CodeInvalidRequest, "Send If-Match or If-None-Match, not both.")
		case none != "*":
			return preconditions{}, apierror.New(apierror.CodeInvalidRequest, "If-None-Match on a change must be *: it then applies only while the object does not exist.")
		}
		return preconditions{ifMatch: catalog.NoVersion}, nil
	}
	switch {
	case h == "":
		return preconditions{}, nil
	case h == "*":
		return preconditions{ifMatch: catalog.AnyVersion}, nil
	}
	items := listItems(h)
	if len(items) > MaxIfMatchTags {
		return preconditions{}, apierror.New(apierror.CodeInvalidRequest, "If-Match lists at most %d entity tags.", MaxIfMatchTags)
	}
	var versions []int64
	named := false
	for _, tag := range items {
		v, ok, err := entityTagVersion(tag)
		if err != nil {
			return preconditions{}, err
		}
		named = true
		if ok && !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	switch {
	case !named:
		return preconditions{}, apierror.New(apierror.CodeInvalidRequest, "If-Match is empty: send the object's ETag, such as \"3\", or *.")
	case len(versions) == 0:
		return preconditions{ifMatch: catalog.NeverVersion}, nil
	case len(versions) == 1:
		return preconditions{ifMatch: versions[0]}, nil
	}
	return preconditions{oneOf: versions}, nil
}

// MaxIfMatchTags bounds the entity tags an If-Match lists: the versions a change may apply at are
// a few, and each tag is compared with those before it, so a header of thousands would cost a
// request's CPU many times over before its key's rights are checked.
const MaxIfMatchTags = 64

// listItems splits an HTTP list at its commas outside quoted strings, trimmed, leaving out the
// empty items a list may hold.
func listItems(h string) []string {
	var items []string
	add := func(item string) {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	start, quoted := 0, false
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				add(h[start:i])
				start = i + 1
			}
		}
	}
	add(h[start:])
	return items
}

// entityTagVersion returns the version an If-Match entity tag names: ok is false for a weak
// tag, or a quoted one that is not a version's ETag; a tag that is neither quoted nor a bare
// version is an error.
func entityTagVersion(tag string) (v int64, ok bool, err error) {
	bad := apierror.New(apierror.CodeInvalidRequest, "If-Match must be object versions as their ETag gives them, such as \"3\", or *.")
	weak := strings.HasPrefix(tag, "W/")
	digits := strings.TrimPrefix(tag, "W/")
	quoted := len(digits) >= 2 && digits[0] == '"' && digits[len(digits)-1] == '"'
	if quoted {
		digits = digits[1 : len(digits)-1]
	}
	if strings.ContainsAny(digits, "\"*") || (weak && !quoted) {
		return 0, false, bad
	}
	v, perr := strconv.ParseInt(digits, 10, 64)
	isVersion := perr == nil && v >= 1 && digits == strconv.FormatInt(v, 10)
	switch {
	case !quoted && !isVersion:
		return 0, false, bad
	case weak || !isVersion:
		return 0, false, nil
	}
	return v, true, nil
}
