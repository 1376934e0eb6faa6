package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// authenticator checks the API key of a control-plane request.
type authenticator interface {
	authenticate(r *http.Request) (access.Principal, error)
	// recordUnauthenticated records an attempt refused with access.ErrUnauthenticated.
	recordUnauthenticated(r *http.Request, attempt Event, err error)
}

// authenticate authenticates r's API key. A refusal for want of a valid key (not one for an
// address cooling off) is audited like the control plane's: every administration route is a
// control-plane route.
func (a *Admin) authenticate(r *http.Request) (access.Principal, error) {
	p, err := a.cfg.Auth.authenticate(r)
	if errors.Is(err, access.ErrUnauthenticated) {
		a.cfg.Auth.recordUnauthenticated(r, Event{Action: r.Method + " " + clipPath(r.URL.EscapedPath())}, err)
	}
	return p, err
}

// maxRecordedPath bounds the path an event of an unauthenticated request names: anyone may send
// one, and nothing has checked its ids yet.
const maxRecordedPath = 128

// clipPath is path cut to maxRecordedPath bytes, saying so.
func clipPath(path string) string {
	if len(path) <= maxRecordedPath {
		return path
	}
	return path[:maxRecordedPath] + "..."
}

// AdminConfig configures the administration endpoints (contract section 8).
type AdminConfig struct {
	// Catalog applies changes and holds the catalog in force.
	Catalog *catalog.Manager
	// Auth authenticates API keys (the control plane, with its failed-attempt guard).
	Auth   authenticator
	Events Recorder
	Logger *slog.Logger
}

// Admin serves the administration endpoints: spaces, stacks, integrations, attachments, roles
// and API keys, changed while broker runs.
type Admin struct {
	cfg AdminConfig
}

// NewAdmin returns the administration endpoints.
func NewAdmin(cfg AdminConfig) *Admin {
	if cfg.Events == nil {
		cfg.Events = nopRecorder{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Admin{cfg: cfg}
}

// Mount registers the administration routes.
func (a *Admin) Mount(rt *Router) {
	for _, k := range objectKinds {
		h := &kindHandler{admin: a, spec: k}
		rt.HandleFunc("GET "+k.path, h.list)
		rt.HandleFunc("GET "+k.path+"/{id}", h.get)
		rt.HandleFunc("PUT "+k.path+"/{id}", a.pathIDs(h.put))
		rt.HandleFunc("DELETE "+k.path+"/{id}", a.pathIDs(h.delete))
	}
	at := &attachHandler{admin: a}
	rt.HandleFunc("GET /v1/stacks/{id}/attachments", at.list)
	rt.HandleFunc("PUT /v1/stacks/{id}/attachments/{integration}", a.pathIDs(at.put))
	rt.HandleFunc("DELETE /v1/stacks/{id}/attachments/{integration}", a.pathIDs(at.delete))
	keys := &apiKeyHandler{admin: a}
	rt.HandleFunc("GET /v1/api-keys", keys.list)
	rt.HandleFunc("POST /v1/api-keys", keys.create)
	rt.HandleFunc("DELETE /v1/api-keys/{id}", a.pathIDs(keys.delete))
}

// pathIDs answers 400 for a change whose path names an id ({id}, {integration}) that breaks
// config.IDPattern, before anything is authorized or recorded: no such object can exist, and a
// refusal would carry the path, whatever its size, into the audit trail.
func (a *Admin) pathIDs(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"id", "integration"} {
			if v := r.PathValue(name); v != "" && !config.IDPattern.MatchString(v) {
				if len(v) > 64 {
					v = v[:64] + "…"
				}
				a.fail(w, r, apierror.New(apierror.CodeInvalidRequest, "The request is not valid: %s.", fieldProblem(name,
					fmt.Sprintf("id %q must match %s (lower case letters, digits and '-', at most 63)", v, config.IDPattern))))
				return
			}
		}
		next(w, r)
	}
}

// fail answers err in the envelope, mapping catalog refusals to their status. A refusal's
// withheld detail goes to the log only.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ce *catalog.ChangeError
	if errors.As(err, &ce) {
		code := apierror.CodeInvalidRequest
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			code = apierror.CodeNotFound
		case errors.Is(err, catalog.ErrConflict), errors.Is(err, catalog.ErrManagedByConfig):
			code = apierror.CodeConflict
		case errors.Is(err, catalog.ErrPrecondition):
			code = apierror.CodePrecondition
		}
		if len(ce.Withheld) > 0 {
			// What the answer leaves out (another space's template, say) is for the operators.
			a.cfg.Logger.InfoContext(r.Context(), "change refused; the answer withholds details of other objects",
				"path", r.URL.Path, "detail", strings.Join(ce.Withheld, "; "))
		}
		err = apierror.New(code, "%s.", capitalize(fieldProblem(ce.Field, strings.Join(ce.Messages, "; "))))
	}
	var fe config.Errors
	if errors.As(err, &fe) {
		err = apierror.New(apierror.CodeInvalidRequest, "The request body is not valid: %s.", fieldProblem(fe[0].Path, fe[0].Msg))
	}
	if errors.Is(err, catalog.ErrUnavailable) {
		a.cfg.Logger.ErrorContext(r.Context(), "catalog store unavailable", "path", r.URL.Path, "err", err)
		err = apierror.New(apierror.CodeUnavailable, "The state store is unreachable; try again shortly.")
	}
	fail(w, r, a.cfg.Logger, err)
}

// fieldProblem renders a problem of one field of a request body, naming the field as the
// body spells it: `field "aws.roleArn": msg`.
func fieldProblem(field, msg string) string {
	msg = strings.TrimSuffix(msg, ".")
	if field == "" {
		return msg
	}
	return fmt.Sprintf("field %q: %s", field, msg)
}

// missingSpace answers a body whose field names a space that does not exist with 404, as for
// any missing reference; it is checked before space:admin, which no key holds there.
func missingSpace(c *catalog.Catalog, field, space string) error {
	if _, ok := c.Space(space); space != "" && !ok {
		return apierror.New(apierror.CodeNotFound, "%s.", capitalize(fieldProblem(field, fmt.Sprintf("space %q does not exist", space))))
	}
	return nil
}

// adminSpace is the space whose space:admin a change naming space needs: root when the body
// names none (validation then refuses it with 400, but only to a caller who may see why).
func adminSpace(space string) string {
	if space == "" {
		return config.RootSpace
	}
	return space
}

// requireAdmin returns nil when p holds space:admin in every space of spaces. A refusal names
// the space only when p holds a binding covering it.
func requireAdmin(c *catalog.Catalog, p access.Principal, spaces ...string) error {
	for _, s := range spaces {
		if err := c.Access().Allowed(p, config.ActionSpaceAdmin, s); err != nil {
			if !c.Access().Covers(p, s) {
				// Not named: the key cannot see that space (an API key's other binding, say).
				return fmt.Errorf("%w: API key %q may not %s in a space it holds no binding on", access.ErrForbidden, p.KeyID, config.ActionSpaceAdmin)
			}
			return err
		}
	}
	return nil
}

// readObject authenticates r and decodes its JSON body into dst with the file's field rules.
func (a *Admin) readObject(r *http.Request, dst any) (access.Principal, error) {
	p, err := a.authenticate(r)
	if err != nil {
		return p, err
	}
	body, err := readBody(r)
	if err != nil {
		return p, err
	}
	return p, decodeObject(body, dst)
}

// changeOf authenticates r and reads its preconditions (see ifMatch).
func (a *Admin) changeOf(r *http.Request) (access.Principal, preconditions, error) {
	p, err := a.authenticate(r)
	if err != nil {
		return p, preconditions{}, err
	}
	pre, err := ifMatch(r)
	return p, pre, err
}

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
	var versions []int64
	named := false
	for _, tag := range listItems(h) {
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

// readBody reads a JSON request body within the cap.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge()
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge()
		}
		return nil, apierror.New(apierror.CodeInvalidRequest, "The request body could not be read.")
	}
	if isBlankJSON(data) {
		return nil, apierror.New(apierror.CodeInvalidRequest, "A JSON request body is required.")
	}
	return data, nil
}

// maxListed bounds the problems one answer names; past it, it says how many more there are.
const maxListed = 10

// decodeObject decodes body into dst with the file's field rules in camelCase; problems are
// 400 naming the field (the first maxListed of them).
func decodeObject(body []byte, dst any) error {
	err := config.DecodeJSON(body, dst)
	var errs config.Errors
	if errors.As(err, &errs) {
		msgs := make([]string, 0, min(len(errs), maxListed+1))
		for _, fe := range errs[:min(len(errs), maxListed)] {
			msgs = append(msgs, fieldProblem(fe.Path, fe.Msg))
		}
		if rest := len(errs) - maxListed; rest > 0 {
			msgs = append(msgs, fmt.Sprintf("and %d more", rest))
		}
		return apierror.New(apierror.CodeInvalidRequest, "The request body is not valid: %s.", strings.Join(msgs, "; "))
	}
	return err
}

// objectJSON renders obj with the API's names, every field of its body (empty ones too), plus
// its id, managedBy and version.
func objectJSON(obj any, meta catalog.Meta) ([]byte, error) {
	body, err := config.EncodeJSONFields(obj)
	if err != nil {
		return nil, err
	}
	extra := fmt.Sprintf(`"managedBy":%q,"version":%d}`, meta.ManagedBy, meta.Version)
	if len(body) > 2 {
		extra = "," + extra
	}
	return append(body[:len(body)-1], extra...), nil
}

// writeObjects answers {"<name>": [objects...]}.
func writeObjects(w http.ResponseWriter, name string, items [][]byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{%q:[`, name)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}\n")
	writeRaw(w, http.StatusOK, b.Bytes())
}

// objectAnswer is one object as an answer carries it.
type objectAnswer struct {
	// name is the answer's field that holds the object ("stack", "attachment").
	name string
	// item is the object's JSON.
	item []byte
	// version is the object's version, sent as ETag.
	version int64
}

// writeObject answers {"<name>": item} with status and the object's version as ETag.
func writeObject(w http.ResponseWriter, status int, obj objectAnswer) {
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(obj.version, 10)))
	writeRaw(w, status, fmt.Appendf(nil, "{%q:%s}\n", obj.name, obj.item))
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// changeRecord is the audit event of a change asked through the API, recorded before the
// change is committed: no change is in force without its event. When the trail cannot be
// written, the change is refused (503) and not applied. A change recorded and then not
// committed is followed by an event of the same action with outcome "error" saying so.
type changeRecord struct {
	admin *Admin
	// event builds the change's event from the catalog's result of it.
	event func(res catalog.Result) Event
}

// Before records the change's event; an error refuses the change.
func (c changeRecord) Before(ctx context.Context, res catalog.Result) error {
	e := c.event(res)
	e.Index = res.Catalog
	if err := c.admin.cfg.Events.Record(ctx, e); err != nil {
		c.admin.cfg.Logger.ErrorContext(ctx, "audit: could not record an administration change; it is not applied", "action", e.Action, "err", err)
		return err
	}
	return nil
}

// NotCommitted records that the change Before recorded was not committed: another change
// came first (and the change is validated and recorded again), or the store failed before it
// answered (the catalog then shows whether the commit landed).
func (c changeRecord) NotCommitted(ctx context.Context, res catalog.Result, err error) {
	e := c.event(res)
	e.Index = res.Catalog
	e.Outcome = "error"
	if errors.Is(err, catalog.ErrStale) {
		e.Detail = "not applied, another change was committed first: " + e.Detail
	} else {
		e.Detail = "not confirmed, the catalog store failed before it answered: " + e.Detail
	}
	if rerr := c.admin.cfg.Events.Record(ctx, e); rerr != nil {
		c.admin.cfg.Logger.ErrorContext(ctx, "audit: could not record that an administration change was not committed", "action", e.Action, "err", rerr)
	}
}

// objectChange is a change to one object, applied, as its audit event describes it.
type objectChange struct {
	// ref names the object changed.
	ref catalog.Ref
	// action names the change in the trail ("stack.put", "api_key.delete").
	action string
	// place is where the event is filed (see catalog.ChangePlace).
	place catalog.EventPlace
	// res is the catalog's result of the change.
	res catalog.Result
	// after is the object as the change left it; nil for a deletion.
	after any
}

// changeEvent describes ch, applied by p, for the audit trail: the object, and whether it was
// created (with its fields), deleted (with the fields it had) or which fields changed (from what
// to what), so the trail tells who granted what; never a secret (no object of the API holds
// one). An integration's event (and an attachment's) names the integration in its own field too.
func changeEvent(p access.Principal, ch objectChange) Event {
	var detail string
	shown := valuesShown(ch.place, ch.res.Before, ch.after)
	switch {
	case ch.after == nil:
		detail = "deleted"
		if was := objectValue(ch.res.Before); was != "" && shown {
			detail += ", was " + was
		}
		if len(ch.res.Deleted) > 1 {
			names := make([]string, 0, len(ch.res.Deleted)-1)
			for _, r := range ch.res.Deleted[1:] {
				names = append(names, r.String())
			}
			detail += "; with it " + strings.Join(names, ", ")
		}
	case ch.res.Created && shown:
		detail = fmt.Sprintf("created at version %d: %s", ch.res.Version, objectValue(ch.after))
	case ch.res.Created:
		detail = fmt.Sprintf("created at version %d", ch.res.Version)
	default:
		detail = fmt.Sprintf("replaced with version %d; changed: %s", ch.res.Version, strings.Join(changedFields(ch.res.Before, ch.after, shown), ", "))
	}
	if ends := runsEnded(ch); ends != "" {
		detail += "; " + ends
	}
	return Event{Actor: "api_key:" + p.KeyID, Action: ch.action, Run: runs.Run{Space: ch.place.Space, Stack: ch.place.Stack},
		Integration: ch.place.Integration, Also: ch.place.Also, Detail: ch.ref.String() + " " + detail}
}

// runsEnded says which unfinished runs ch ends, empty for none: a stack's when it is deleted or
// moved, the stacks' in and below a space moved to another parent, and the runs an API key
// started when it is deleted. Their run tokens get 401 from then on; no run has an event of its
// own for it.
func runsEnded(ch objectChange) string {
	switch before := ch.res.Before.(type) {
	case config.Stack:
		if after, ok := ch.after.(config.Stack); !ok || after.Space != before.Space {
			return "the stack's unfinished runs end"
		}
	case config.Space:
		if after, ok := ch.after.(config.Space); ok && after.Parent != before.Parent {
			return "the unfinished runs of the stacks in and below it end"
		}
	case config.APIKey:
		if ch.after == nil {
			return "the unfinished runs it started end"
		}
	}
	return ""
}

// valuesShown reports whether the detail of a change of before into after (nil for a creation,
// a deletion), filed at place, may quote the object's values: only when every space whose
// auditors list the event may read them. That is so when it is filed under one space, or when it
// deletes a space, filed also under the parent that holds it. A move (filed where the object went
// and where it was) and an API key bound on several spaces name only fields and counts: the
// auditors of one space would read the other's ids and values.
func valuesShown(place catalog.EventPlace, before, after any) bool {
	if len(place.Also) == 0 {
		return true
	}
	sp, ok := before.(config.Space)
	return after == nil && ok && len(place.Also) == 1 && place.Also[0] == sp.Parent
}

// maxValueBytes bounds each value a change's detail quotes, and maxObjectBytes a whole object:
// a role of many actions or a stack of many labels does not make an event of any size.
const (
	maxValueBytes  = 256
	maxObjectBytes = 1024
)

// auditable is obj as a change's detail may show it: an API key without the hash of its secret.
func auditable(obj any) any {
	if k, ok := obj.(config.APIKey); ok {
		k.SecretSHA256 = ""
		return k
	}
	return obj
}

// objectValue is obj's fields (see auditable) as the API's JSON, cut at maxObjectBytes; empty
// for nil.
func objectValue(obj any) string {
	if obj == nil {
		return ""
	}
	body, err := config.EncodeJSON(auditable(obj))
	if err != nil {
		return ""
	}
	return cut(string(body), maxObjectBytes)
}

// cut returns s, or its first n bytes (whole runes) followed by "…" when longer.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// changedFields names the top-level fields (API names) whose values differ, each, when values
// are shown, with its value before and after as JSON ("write false → true"; "none" for a field
// one side lacks).
func changedFields(before, after any, values bool) []string {
	fb, fa := fieldsOf(auditable(before)), fieldsOf(auditable(after))
	var names []string
	for k, v := range fa {
		if was, ok := fb[k]; !ok || was != v {
			names = append(names, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return []string{"nothing"}
	}
	if !values {
		return names
	}
	out := make([]string, len(names))
	for i, k := range names {
		was, now := "none", "none"
		if v, ok := fb[k]; ok {
			was = cut(v, maxValueBytes)
		}
		if v, ok := fa[k]; ok {
			now = cut(v, maxValueBytes)
		}
		out[i] = k + " " + was + " → " + now
	}
	return out
}
