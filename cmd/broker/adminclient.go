package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/brokerhq/broker/internal/catalog"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// maxAdminAnswerBytes caps what the CLI reads of one administration answer (a whole listing).
const maxAdminAnswerBytes = 64 << 20

// adminClient calls the control plane's administration endpoints with the API key from the
// environment (BROKER_URL, BROKER_API_KEY).
type adminClient struct {
	baseURL string
	apiKey  string
	http    *http.Client
}

// newAdminClient returns the admin client of the environment's BROKER_URL and BROKER_API_KEY.
func newAdminClient(e env) (*adminClient, error) {
	base, key, err := brokerEnv(e, "BROKER_API_KEY")
	if err != nil {
		return nil, err
	}
	return &adminClient{baseURL: base, apiKey: key, http: brokerHTTP()}, nil
}

// reply is a successful answer: its status, its body and the version its ETag names (0 when
// it names none).
type reply struct {
	status  int
	body    []byte
	version int64
}

// adminRequest is one call to an administration endpoint.
type adminRequest struct {
	// method is the HTTP method.
	method string
	// path is the endpoint's path, appended to the broker's URL.
	path string
	// body is what is sent: nil sends none, a []byte is sent as is, anything else JSON-encoded.
	body any
	// ifMatch, when above 0, is the version sent as If-Match; catalog.NoVersion sends
	// If-None-Match: * (create only).
	ifMatch int64
}

// call sends req. A non-2xx answer is an *apiError.
func (c *adminClient) call(ctx context.Context, req adminRequest) (reply, error) {
	var rd io.Reader
	switch b := req.body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(data)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, c.baseURL+req.path, rd)
	if err != nil {
		return reply{}, fmt.Errorf("request to %s: %w", c.baseURL, err)
	}
	if rd != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	switch {
	case req.ifMatch == catalog.NoVersion:
		hreq.Header.Set("If-None-Match", "*")
	case req.ifMatch > 0:
		hreq.Header.Set("If-Match", strconv.Quote(strconv.FormatInt(req.ifMatch, 10)))
	}
	hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return reply{}, fmt.Errorf("cannot reach broker at %s: %w", c.baseURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp.Body, maxAdminAnswerBytes)
	if err != nil {
		return reply{}, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return reply{}, answerError(resp, raw)
	}
	version, _ := strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	return reply{status: resp.StatusCode, body: raw, version: version}, nil
}

// getField fetches path and returns the field name of its JSON answer.
func (c *adminClient) getField(ctx context.Context, path, name string) (json.RawMessage, error) {
	r, err := c.call(ctx, adminRequest{method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	return field(r.body, name)
}

// field returns the member name of the JSON object body.
func field(body []byte, name string) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("broker's answer is not the expected JSON: %w", err)
	}
	v, ok := obj[name]
	if !ok {
		return nil, fmt.Errorf("broker's answer has no %q", name)
	}
	return v, nil
}

// items splits a JSON list into its elements.
func items(list json.RawMessage) ([]json.RawMessage, error) {
	var out []json.RawMessage
	if err := json.Unmarshal(list, &out); err != nil {
		return nil, fmt.Errorf("broker's answer is not the expected JSON list: %w", err)
	}
	return out, nil
}

// isNotFound reports whether err is the broker's 404.
func isNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// meta is what the API adds to an object: who owns it and its version. An attachment made by
// an autoattach rule has neither.
type meta struct {
	ManagedBy string `json:"managedBy"`
	Version   int64  `json:"version"`
}

// decodeServed decodes an object as the API serves it into T (a configuration type, or any
// struct with yaml tags): the fields of T by the file's rules in camelCase, after taking off
// managedBy and version, which it returns.
func decodeServed[T any](raw json.RawMessage) (T, meta, error) {
	var obj T
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return obj, m, fmt.Errorf("broker's answer is not the expected JSON: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return obj, m, fmt.Errorf("broker's answer is not the expected JSON: %w", err)
	}
	delete(fields, "managedBy")
	delete(fields, "version")
	body, err := json.Marshal(fields)
	if err != nil {
		return obj, m, err
	}
	if err := config.DecodeJSON(body, &obj); err != nil {
		return obj, m, fmt.Errorf("broker served an object this broker CLI cannot read (another version?): %w", err)
	}
	return obj, m, nil
}
