package api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/redact"
)

// Router wraps http.ServeMux so that an unknown path gets a 404 and a known path with another
// method gets a 405, both in the error envelope rather than ServeMux's plain text.
type Router struct {
	mux *http.ServeMux
	// methods lists the methods registered on each path, for the 405's Allow header.
	methods map[string][]string
	// literals holds every literal segment of the registered paths, which no secret check asks.
	literals map[string]bool
	// known, when set, reports whether a part of a path is a secret (see CutSecrets).
	known func(string) bool
}

// NewRouter returns a Router whose unmatched requests get the enveloped 404.
func NewRouter() *Router {
	rt := &Router{mux: http.NewServeMux(), methods: map[string][]string{}, literals: map[string]bool{}}
	rt.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, apierror.New(apierror.CodeNotFound, "No such endpoint: %s.", r.URL.Path))
	})
	return rt
}

// Handle registers h for pattern "METHOD /path" and, once per path, a 405 for other methods.
// Register every route before serving: the method lists are not guarded for concurrent use.
func (rt *Router) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, h)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return
	}
	for seg := range strings.SplitSeq(path, "/") {
		if !strings.HasPrefix(seg, "{") {
			rt.literals[seg] = true
		}
	}
	_, seen := rt.methods[path]
	rt.methods[path] = append(rt.methods[path], method)
	if seen {
		return
	}
	rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(rt.methods[path], ", "))
		apierror.Write(w, apierror.New(apierror.CodeMethodNotAllowed, "%s is not allowed on %s.", r.Method, r.URL.Path))
	})
}

// HandleFunc is Handle for a function.
func (rt *Router) HandleFunc(pattern string, h http.HandlerFunc) { rt.Handle(pattern, h) }

// CutSecrets makes CutPath cut each part of a path that known reports to be a secret (an API
// key's of any form, looked up by its hash), besides broker's own brk_ secrets, which are cut
// wherever they are written. Set it before serving.
//
// Only what the server records is cut (the access log, other log lines, audit events), never
// what the request is answered: an answer that differed when a path part is a key's secret
// would let anyone test guesses at secrets, unauthenticated and past the failed-attempt limit.
// An answer repeating an id repeats it to the client that sent it.
func (rt *Router) CutSecrets(known func(string) bool) { rt.known = known }

// maxSecretLookups bounds the look-ups CutPath makes for one text; past it, every further part
// that would be asked about is cut, unasked.
const maxSecretLookups = 256

// maxJoinedSegments bounds how many consecutive segments CutPath also asks about joined by '/'
// (a secret holding '/', sent as it is or percent-encoded, spans segments of the decoded path).
const maxJoinedSegments = 4

// maxInnerSeparators bounds the soft separators a token may hold for CutPath to ask about every
// part of it between two of them; a token with more is asked about its parts from its start and
// to its end only.
const maxInnerSeparators = 3

// CutPath returns the decoded path p as log lines record it: broker's brk_ secrets cut
// (redact.Secrets), and, when CutSecrets is set, each secret found in it replaced by
// redact.Mark: a segment that is one; a token of a segment (split at spaces, quotes, parentheses
// and the mark) that is one; a part of a token from or to one of its soft separators (.:;,=&+,
// which a secret may hold as well as stand beside: "<secret>.json", "Bearer <secret>", a base64
// secret ending in '='); and a run of up to maxJoinedSegments segments that is one joined by
// '/'. The registered paths' literal segments (v1, runs, ...) are never asked, so a route of
// literals alone costs no look-up. It serves any text bound for a log line (an error's text
// naming an id) as well.
func (rt *Router) CutPath(p string) string {
	p = redact.Secrets(p)
	if rt.known == nil || rt.literalsOnly(p) {
		return p
	}
	c := &secretCutter{known: rt.known, literals: rt.literals}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	cut := false
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		if rt.literals[seg] || seg == redact.Mark {
			out = append(out, seg)
			continue
		}
		if cs, found := c.cutSegment(seg); found {
			out, cut = append(out, cs), true
			continue
		}
		if cs, j, found := c.cutSpanning(segs[i:min(len(segs), i+maxJoinedSegments)]); found {
			out, cut, i = append(out, cs), true, i+j
			continue
		}
		out = append(out, seg)
	}
	if !cut {
		return p
	}
	return strings.Join(out, "/")
}

// secretCutter asks known about the parts of one text, up to maxSecretLookups.
type secretCutter struct {
	known    func(string) bool
	literals map[string]bool
	asked    int
}

// secret reports whether s is a secret: known says so, or the look-ups are spent. Nothing, a
// route literal and a brk_ secret (cut already by redact.Secrets) are not asked.
func (c *secretCutter) secret(s string) bool {
	if s == "" || s == redact.Mark || c.literals[s] || strings.HasPrefix(s, redact.Prefix) {
		return false
	}
	c.asked++
	return c.asked > maxSecretLookups || c.known(s)
}

// hardSeparators end a token: a secret holds none of them, nor any control character.
const hardSeparators = " \"'()<>[]{}`" + redact.Mark

// hardSeparator reports whether r ends a token (see hardSeparators).
func hardSeparator(r rune) bool {
	return r < 0x20 || r == 0x7f || strings.ContainsRune(hardSeparators, r)
}

// maxPartsToken bounds the length of a token whose parts CutPath asks about; a longer token
// holding soft separators is cut whole, unasked (no key's secret is that long), so that a
// request of a long path costs its log line no more than linear time.
const maxPartsToken = 256

// softSeparators may stand beside a secret or inside one.
const softSeparators = ".:;,=&+"

// cutSegment returns seg with each secret found in it (see CutPath) replaced by redact.Mark, and
// whether it found one.
func (c *secretCutter) cutSegment(seg string) (string, bool) {
	if c.secret(seg) {
		return redact.Mark, true
	}
	if !strings.ContainsFunc(seg, hardSeparator) && !strings.ContainsAny(seg, softSeparators) {
		return seg, false
	}
	var b strings.Builder
	found := false
	for len(seg) > 0 {
		end := strings.IndexFunc(seg, hardSeparator)
		if end == 0 {
			_, size := utf8.DecodeRuneInString(seg)
			b.WriteString(seg[:size])
			seg = seg[size:]
			continue
		}
		if end < 0 {
			end = len(seg)
		}
		tok := seg[:end]
		if a, z, ok := c.secretIn(tok); ok {
			b.WriteString(tok[:a] + redact.Mark + tok[z:])
			found = true
		} else {
			b.WriteString(tok)
		}
		seg = seg[end:]
	}
	return b.String(), found
}

// cutSpanning looks for a secret holding '/' (base64's alphabet has it) that spans segs[0] and
// up to the following ones, beside other text or not: the token ending segs[0] joined by '/' to
// the segments after it, the last up to its first hard separator, the middle ones whole (a hard
// separator or a route literal in one ends the search). Found, it returns the segments from
// segs[0] to segs[j] as one, the secret cut.
func (c *secretCutter) cutSpanning(segs []string) (string, int, bool) {
	left := segs[0]
	k := strings.LastIndexFunc(left, hardSeparator)
	head := ""
	if k >= 0 {
		_, size := utf8.DecodeRuneInString(left[k:])
		head, left = left[:k+size], left[k+size:]
	}
	tok := left
	for j := 1; j < len(segs); j++ {
		right := segs[j]
		if c.literals[right] {
			return "", 0, false
		}
		e := strings.IndexFunc(right, hardSeparator)
		if e < 0 {
			e = len(right)
		}
		tok += "/" + right[:e]
		if len(tok) > maxPartsToken {
			return "", 0, false
		}
		if a, z, ok := c.secretIn(tok); ok {
			return head + tok[:a] + redact.Mark + tok[z:] + right[e:], j, true
		}
		if e < len(right) {
			return "", 0, false
		}
	}
	return "", 0, false
}

// secretIn returns the bounds of a secret in tok: tok whole, or a part of it from or to a soft
// separator, or between two consecutive ones (any part between two, when tok holds at most
// maxInnerSeparators of them). A token longer than maxPartsToken is cut whole, unasked.
func (c *secretCutter) secretIn(tok string) (int, int, bool) {
	if c.asked >= maxSecretLookups || c.secret(tok) {
		return 0, len(tok), true // past the look-ups, a token is cut whole, unasked
	}
	if !strings.ContainsAny(tok, softSeparators) || strings.Trim(tok, softSeparators) == "" {
		return 0, 0, false
	}
	if len(tok) > maxPartsToken {
		return 0, len(tok), true
	}
	var seps []int
	for i := range len(tok) {
		if strings.IndexByte(softSeparators, tok[i]) >= 0 {
			seps = append(seps, i)
		}
	}
	// Bounds a part may start at, and end at: the token's ends and each separator's sides.
	bounds := []int{0}
	for _, p := range seps {
		bounds = append(bounds, p, p+1)
	}
	bounds = slices.Compact(append(bounds, len(tok)))
	type part struct{ a, z int }
	var parts []part
	if len(seps) <= maxInnerSeparators {
		for _, a := range bounds {
			for _, z := range bounds {
				if z > a {
					parts = append(parts, part{a, z})
				}
			}
		}
	} else {
		for _, b := range bounds {
			parts = append(parts, part{0, b}, part{b, len(tok)})
		}
		prev := 0
		for _, p := range append(seps, len(tok)) {
			parts = append(parts, part{prev, p})
			prev = p + 1
		}
	}
	for _, pt := range parts {
		if pt.z <= pt.a || (pt.a == 0 && pt.z == len(tok)) {
			continue
		}
		if piece := tok[pt.a:pt.z]; strings.Trim(piece, softSeparators) != "" && c.secret(piece) {
			if c.asked > maxSecretLookups {
				return 0, len(tok), true
			}
			return pt.a, pt.z, true
		}
	}
	return 0, 0, false
}

// literalsOnly reports whether every segment of p is empty or a route literal, which CutPath
// never asks about: the common case, checked without allocating.
func (rt *Router) literalsOnly(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg != "" && !rt.literals[seg] {
			return false
		}
	}
	return true
}

// Mux exposes the underlying mux for handlers that mount themselves on a plain *http.ServeMux.
func (rt *Router) Mux() *http.ServeMux { return rt.mux }

// ServeHTTP implements http.Handler. A path that is not clean (//, /./, /../), which ServeMux
// would redirect with an HTML body, and a request whose path does not start with / (CONNECT),
// which it would answer in plain text, get the enveloped 404: no route of the API has such a
// path, and a client is better told so than sent elsewhere.
//
// A query string that does not parse (a bad %-escape, a ';') is 400: the routes read it with
// url.Values, which would drop the bad parameter, and a listing would then answer as if none
// had been named.
//
// A body longer than MaxBodyBytes gets the 413 on every route, also on one that reads no body,
// as the API's rule for bodies says: one declared so at once, one of unknown length (chunked)
// once that much of it is read, here, before its route.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; !strings.HasPrefix(p, "/") || !clean(p) {
		apierror.Write(w, apierror.New(apierror.CodeNotFound, "No such endpoint: %s.", p))
		return
	}
	if q := r.URL.RawQuery; q != "" && !validQuery(q) {
		apierror.Write(w, apierror.New(apierror.CodeInvalidRequest, "The query string is not valid: use & between parameters and %%XX escapes only."))
		return
	}
	if r.ContentLength > MaxBodyBytes {
		apierror.Write(w, tooLarge())
		return
	}
	if r.ContentLength < 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		switch {
		case err != nil:
			apierror.Write(w, apierror.New(apierror.CodeInvalidRequest, "The request body could not be read."))
			return
		case len(body) > MaxBodyBytes:
			apierror.Write(w, tooLarge())
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	rt.mux.ServeHTTP(w, r)
}

// validQuery reports that the query string q parses as url.Values.
func validQuery(q string) bool {
	_, err := url.ParseQuery(q)
	return err == nil
}

// clean reports that p, which starts with /, has no empty, "." or ".." segment (a trailing slash
// aside), the paths ServeMux serves without a redirect.
func clean(p string) bool {
	cleaned := path.Clean(p)
	return cleaned == p || cleaned+"/" == p
}
