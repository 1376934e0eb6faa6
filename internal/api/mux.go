package api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
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
	// known, when set, reports whether a path segment or a query value is a secret (see
	// RefuseSecrets).
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

// RefuseSecrets makes the router refuse a request whose path segment or query value known
// reports to be a secret (an API key's of any form, looked up by its hash; broker's own brk_
// secrets are cut wherever they are written): pasted where an id goes, it would be repeated in
// the answer ("no run with id ..."), the access log and the audit trail. The answer is a 400
// repeating none of it, and the request's URL is cut in place, so the access log line written
// after the answer carries the path with each such segment cut and no query. The segments of
// registered paths (v1, runs, ...) are not asked. Set it before serving.
func (rt *Router) RefuseSecrets(known func(string) bool) { rt.known = known }

// SecretInURLMessage is the answer to a request whose URL holds a secret (see RefuseSecrets).
const SecretInURLMessage = "The request's path or query holds an API key's secret: send a secret only as Authorization: Bearer <secret>, and rotate the key if the URL may have been logged on the way."

// cutSecrets reports whether u's path or query holds a secret known reports (see
// RefuseSecrets), and then cuts u in place: each such segment of its path becomes redact.Mark,
// and its query is dropped.
func (rt *Router) cutSecrets(u *url.URL) bool {
	secret := func(s string) bool { return s != "" && !rt.literals[s] && rt.known(s) }
	found := false
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		if secret(seg) {
			segs[i], found = redact.Mark, true
		}
	}
	if u.RawQuery != "" {
		q, _ := url.ParseQuery(u.RawQuery) // parses: ServeHTTP checked it before
		for k, vs := range q {
			found = found || secret(k) || slices.ContainsFunc(vs, secret)
		}
	}
	if found {
		u.Path, u.RawPath, u.RawQuery = strings.Join(segs, "/"), "", ""
	}
	return found
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
// A path or query holding a secret is 400 when RefuseSecrets is set.
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
	if rt.known != nil && rt.cutSecrets(r.URL) {
		apierror.Write(w, apierror.New(apierror.CodeInvalidRequest, "%s", SecretInURLMessage))
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
