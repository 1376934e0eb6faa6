package azureemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
)

// refusal is one Entra error answer.
type refusal struct {
	status  int
	err     string // the OAuth error: invalid_request, invalid_client, ...
	code    int    // the AADSTS number
	message string // the text after "AADSTSnnnnn: "
}

func refuse(status int, err string, code int, format string, args ...any) *refusal {
	return &refusal{status: status, err: err, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is Entra's error document.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// entraTime is the timestamp format of Entra's error documents.
const entraTime = "2006-01-02 15:04:05Z"

// writeRefusal answers ref in Entra's shape and completes c with its outcome.
func (e *Emulator) writeRefusal(w http.ResponseWriter, r *http.Request, c *Call, ref *refusal) {
	trace := newUUID()
	corr := r.Header.Get("client-request-id")
	if !uuidShape.MatchString(corr) {
		corr = newUUID()
	}
	ts := e.now().UTC().Format(entraTime)
	body := errorBody{
		Error: ref.err,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			ref.code, ref.message, trace, corr, ts),
		ErrorCodes:    []int{ref.code},
		Timestamp:     ts,
		TraceID:       trace,
		CorrelationID: corr,
		ErrorURI:      fmt.Sprintf("%s/error?code=%d", e.base(r), ref.code),
	}
	w.Header().Set("x-ms-request-id", trace)
	w.Header().Set("client-request-id", corr)
	c.Status = ref.status
	c.Outcome = fmt.Sprintf("AADSTS%d", ref.code)
	writeJSON(w, ref.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

var uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
