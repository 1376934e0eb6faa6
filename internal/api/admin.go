package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redact"
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
		a.cfg.Auth.recordUnauthenticated(r, Event{Action: r.Method + " " + recordedPath(r)}, err)
	}
	return p, err
}

// maxRecordedPath bounds the path an event of an unauthenticated request names: anyone may send
// one, and nothing has checked its ids yet.
const maxRecordedPath = 128

// recordedPath is r's path as an audit event names it: escaped, every brk_ secret in it cut to
// brk_… (also one sent percent-encoded, found in the decoded path), and clipped (clipPath).
//
// Unlike a log line's path (loggedPath), it is not cut of the secrets of keys the configuration
// file declares by their hash: the trail is an answer too (GET /v1/audit), and a recorded path
// cut only when a part of it is a key's secret would let a key with audit:read test guesses at
// secrets. A brk_ secret is told by its form alone, which tells nothing.
func recordedPath(r *http.Request) string {
	p := redact.Secrets(r.URL.EscapedPath())
	if d := redact.Secrets(r.URL.Path); d != r.URL.Path {
		p = d
	}
	return clipPath(p)
}

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
				"path", loggedPath(r), "detail", strings.Join(ce.Withheld, "; "))
		}
		err = apierror.New(code, "%s.", capitalize(fieldProblem(ce.Field, strings.Join(ce.Messages, "; "))))
	}
	var fe config.Errors
	if errors.As(err, &fe) {
		err = apierror.New(apierror.CodeInvalidRequest, "The request body is not valid: %s.", fieldProblem(fe[0].Path, fe[0].Msg))
	}
	if errors.Is(err, catalog.ErrUnavailable) {
		a.cfg.Logger.ErrorContext(r.Context(), "catalog store unavailable", "path", loggedPath(r), "err", loggedError(r, err))
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
