package api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

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
