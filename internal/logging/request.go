package logging

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Request line fields: the message and the keys of the line an HTTP server logs per request.
const (
	RequestMessage = "request"
	FieldMethod    = "method"
	FieldPath      = "path"
	FieldRoute     = "route"
	FieldStatus    = "status"
	FieldDuration  = "duration"
	FieldRemote    = "remote"
	FieldRequestID = "request_id"
	infoLevel      = "INFO" // slog's text for slog.LevelInfo
)

// Request is the access log's line of one HTTP request, logged at Info.
type Request struct {
	// Time is when the line is logged.
	Time time.Time
	// Method, Path and Route are the request's method, URL path and matched route pattern.
	Method, Path, Route string
	// Status is the answer's status code and Duration how long the answer took.
	Status   int
	Duration time.Duration
	// Remote is the client's address.
	Remote string
	// RequestID is the request's id; "" leaves the field out.
	RequestID string
}

// Record is r as a slog record at Info, its fields in the line's order: how any handler logs it.
func (r Request) Record() slog.Record {
	rec := slog.NewRecord(r.Time, slog.LevelInfo, RequestMessage, 0)
	rec.AddAttrs(slog.String(FieldMethod, r.Method), slog.String(FieldPath, r.Path), slog.String(FieldRoute, r.Route),
		slog.Int(FieldStatus, r.Status), slog.Duration(FieldDuration, r.Duration), slog.String(FieldRemote, r.Remote))
	if r.RequestID != "" {
		rec.AddAttrs(slog.String(FieldRequestID, r.RequestID))
	}
	return rec
}

// RequestLogger is a slog.Handler that writes request lines itself, without building a
// slog.Record. LogRequest reports whether it wrote r; when it did not, the caller logs
// r.Record() through Handle, which writes the same line.
type RequestLogger interface {
	LogRequest(r Request) bool
}

// JSONHandler is slog's JSON handler (no options: Info and above, no source) that also
// implements RequestLogger: a request line is appended field by field into a pooled buffer and
// written with one Write, the same bytes Handle writes for r.Record(). Lines whose strings
// would need JSON escaping, or whose time has no four-digit year, go through Handle instead.
// Handlers derived with WithAttrs or WithGroup are slog's own.
type JSONHandler struct {
	slog.Handler
	out io.Writer
}

// NewJSONHandler returns a JSONHandler writing to w. The request lines are written to w
// directly rather than under slog's lock, so unless w is a *Writer (safe for concurrent use),
// every line goes through one lock of the JSONHandler's own.
func NewJSONHandler(w io.Writer) *JSONHandler {
	if _, safe := w.(*Writer); !safe {
		w = &lockedWriter{w: w}
	}
	return &JSONHandler{Handler: slog.NewJSONHandler(w, nil), out: w}
}

// linePool holds the buffers request lines are built in.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// LogRequest implements RequestLogger.
func (h *JSONHandler) LogRequest(r Request) bool {
	// A zero time is one slog's JSON handler leaves out of the line: slog's Handle writes it.
	if y := r.Time.Year(); r.Time.IsZero() || y < 0 || y >= 10000 ||
		!plain(r.Method) || !plain(r.Path) || !plain(r.Route) || !plain(r.Remote) || !plain(r.RequestID) {
		return false
	}
	bp := linePool.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`+infoLevel+`","msg":"`+RequestMessage+`","`+FieldMethod+`":"`...)
	b = append(b, r.Method...)
	b = append(b, `","`+FieldPath+`":"`...)
	b = append(b, r.Path...)
	b = append(b, `","`+FieldRoute+`":"`...)
	b = append(b, r.Route...)
	b = append(b, `","`+FieldStatus+`":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"`+FieldDuration+`":`...)
	b = strconv.AppendInt(b, int64(r.Duration), 10)
	b = append(b, `,"`+FieldRemote+`":"`...)
	b = append(b, r.Remote...)
	if r.RequestID != "" {
		b = append(b, `","`+FieldRequestID+`":"`...)
		b = append(b, r.RequestID...)
	}
	b = append(b, "\"}\n"...)
	_, _ = h.out.Write(b) // as slog's Handle, whose error the logger drops too
	if cap(b) <= 4<<10 {
		*bp = b
		linePool.Put(bp)
	}
	return true
}

// plain reports whether s is printable ASCII other than '"' and '\\': bytes every JSON encoder
// writes as they are.
func plain(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// lockedWriter serializes the Writes of a writer not safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
