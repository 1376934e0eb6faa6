package api

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/logging"
	"github.com/brokerhq/broker/internal/redact"
)

// RequestIDHeader carries a request's id: read from a request that brings a well-formed one,
// always set on the response.
const RequestIDHeader = "X-Request-Id"

// FieldRequestID is the log field every line of a request carries.
const FieldRequestID = logging.FieldRequestID

// maxRequestIDLength bounds an incoming request id, in bytes.
const maxRequestIDLength = 64

type requestIDKey struct{}

// WithRequestID returns ctx carrying id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return &requestIDCtx{Context: ctx, id: id}
}

// requestIDCtx is a context carrying a request id: context.WithValue in one allocation, the id
// kept as a string rather than boxed in an interface until someone asks for it by Value.
type requestIDCtx struct {
	context.Context
	id string
	// start is when Instrument began serving the request, zero when unknown.
	start time.Time
	// cut, when set, cuts the secrets of a path the request's lines and events record (see
	// Router.CutPath).
	cut func(string) string
	// sent is set when id is the one the request brought (X-Request-Id), which its lines record
	// cut (see loggedID), asked only when a line is written.
	sent bool
}

// pathCutKey asks a requestIDCtx for its cut.
type pathCutKey struct{}

// pathCutter is a handler that cuts the secrets of a path its requests' records name
// (Router.CutPath).
type pathCutter interface{ CutPath(p string) string }

// cutHandler is an http.Handler that cuts paths with cut (see pathCutter).
type cutHandler struct {
	http.Handler
	cut func(string) string
}

// CutPath implements pathCutter.
func (h cutHandler) CutPath(p string) string { return h.cut(p) }

// cutterOf is how the lines and events of the request of ctx cut a path: the cut Instrument put
// in ctx, else broker's brk_ secrets only (redact.Secrets).
func cutterOf(ctx context.Context) func(string) string {
	if cut, ok := ctx.Value(pathCutKey{}).(func(string) string); ok && cut != nil {
		return cut
	}
	return redact.Secrets
}

// loggedPath is r's decoded path as its log lines record it (see cutterOf).
func loggedPath(r *http.Request) string { return cutterOf(r.Context())(r.URL.Path) }

// loggedError is err's text as a log line of r records it, cut as a path is (see cutterOf): a
// store's error names the id it looked up, which may be a key's secret pasted where an id goes.
func loggedError(r *http.Request, err error) string {
	if err == nil {
		return ""
	}
	return cutterOf(r.Context())(err.Error())
}

// requestStartKey asks a requestIDCtx for its start.
type requestStartKey struct{}

// withRequest returns ctx carrying c's request id, start, cut and whether the id was sent (c's
// Context is set to ctx).
func withRequest(ctx context.Context, c requestIDCtx) context.Context {
	c.Context = ctx
	return &c
}

// requestStart returns when Instrument began serving the request of ctx (just after net/http
// read its head, when net/http's write timeout starts), or now when ctx does not say.
func requestStart(ctx context.Context) time.Time {
	if t, ok := ctx.Value(requestStartKey{}).(time.Time); ok && !t.IsZero() {
		return t
	}
	return time.Now()
}

// Value returns the id for requestIDKey and asks the parent for every other key.
func (c *requestIDCtx) Value(key any) any {
	switch key.(type) {
	case requestIDKey:
		return c.loggedID()
	case requestStartKey:
		if !c.start.IsZero() {
			return c.start
		}
	case pathCutKey:
		if c.cut != nil {
			return c.cut
		}
	}
	return c.Context.Value(key)
}

// RequestID returns the request id ctx carries, empty when none: one the request brought is cut
// as its lines record it (see loggedID).
func RequestID(ctx context.Context) string {
	if c, ok := ctx.(*requestIDCtx); ok {
		return c.loggedID()
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// loggedID is c's id as log lines record it: a key's secret the request sent as its
// X-Request-Id (cut tells it) is answered back to its sender as any id is (answering otherwise
// would tell it is one), but recorded as redact.Mark. It is asked only when a line is written.
func (c *requestIDCtx) loggedID() string {
	if c.sent && c.cut != nil && c.cut("/"+c.id) != "/"+c.id {
		return redact.Mark
	}
	return c.id
}

// requestID is the id of r: its X-Request-Id when well formed (1 to 64 ASCII letters, digits,
// '-', '_' or '.'), so a caller or proxy can correlate; else a new random one. Anything else is
// ignored, so that a header never brings spaces, quotes or control characters into a log line.
func requestID(r *http.Request) string {
	if id := r.Header.Get(RequestIDHeader); wellFormedRequestID(id) {
		return id
	}
	return newRequestID()
}

// newRequestID returns a fresh random request id: 26 base32 characters, 128 bits.
func newRequestID() string { return rand.Text() }

// wellFormedRequestID reports whether id is 1 to 64 ASCII letters, digits, '-', '_' or '.',
// and holds no broker secret (redact.Prefix anywhere in it, in any case): a run token or an API
// key sent as the id would otherwise be written into every log line of the request.
func wellFormedRequestID[ID string | []byte](id ID) bool {
	if len(id) == 0 || len(id) > maxRequestIDLength {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !isIDChar(c) {
			return false
		}
		if len(id)-i >= len(redact.Prefix) && strings.EqualFold(string(id[i:i+len(redact.Prefix)]), redact.Prefix) {
			return false
		}
	}
	return true
}

func isIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// LogRequestIDs wraps h so that every record logged with a context carrying a request id gets
// it as FieldRequestID. Wrapping twice wraps once.
func LogRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(FieldRequestID, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
