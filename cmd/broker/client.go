package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/brokerhq/broker/internal/config"
)

// maxResponseBytes caps what the CLI reads from the broker.
const maxResponseBytes = 1 << 20

// workerClient calls the worker plane with the run token from the environment.
type workerClient struct {
	baseURL  string
	runToken string
	http     *http.Client
}

// newWorkerClient returns the worker client of the environment's BROKER_URL and
// BROKER_RUN_TOKEN.
func newWorkerClient(e env) (*workerClient, error) {
	base, token, err := brokerEnv(e, "BROKER_RUN_TOKEN")
	if err != nil {
		return nil, err
	}
	return &workerClient{baseURL: base, runToken: token, http: brokerHTTP()}, nil
}

// callTimeout bounds each call of the CLI to the broker, answer included.
const callTimeout = 60 * time.Second

// brokerHTTP is the HTTP client of the CLI's calls to the broker: the default transport, which
// trusts the system pool (SSL_CERT_FILE works) and honours proxy variables except for a
// loopback host (see proxyExceptLoopback), within callTimeout. It follows no redirect: the
// broker's API never answers one, and following it would send the run token or API key
// wherever it points, plain http included.
func brokerHTTP() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = proxyExceptLoopback
	return &http.Client{Transport: t, Timeout: callTimeout, CheckRedirect: refuseRedirect}
}

// proxyExceptLoopback is the proxy the environment names for r, and none for a loopback host
// in any spelling checkBrokerURL accepts (LOCALHOST too): plain http is allowed there only
// because no network lies on the path, and a proxy would see the token or key in clear.
func proxyExceptLoopback(r *http.Request) (*url.URL, error) {
	if config.IsLoopbackHost(r.URL.Hostname()) {
		return nil, nil
	}
	return http.ProxyFromEnvironment(r)
}

// errRedirect is why the CLI did not follow a redirect.
var errRedirect = errors.New("the broker answered with a redirect, which the CLI never follows " +
	"(it would carry the token or key along): set BROKER_URL to the address the broker itself answers on")

func refuseRedirect(*http.Request, []*http.Request) error { return errRedirect }

// brokerEnv reads BROKER_URL (without a trailing slash) and the secret in the variable named
// secretVar, refusing either missing, a secret no header can carry and a URL that would carry
// the secret in clear.
func brokerEnv(e env, secretVar string) (base, secret string, err error) {
	base = strings.TrimRight(strings.TrimSpace(e.getenv("BROKER_URL")), "/")
	secret = strings.TrimSpace(e.getenv(secretVar))
	switch {
	case base == "":
		return "", "", usagef("BROKER_URL is not set")
	case secret == "":
		return "", "", usagef("%s is not set", secretVar)
	case strings.ContainsFunc(secret, unicode.IsControl):
		// Not repeated, nor left to the HTTP client, whose refusal reads as a broker that
		// cannot be reached.
		return "", "", usagef("%s holds a control character (a newline, tab or NUL inside it?): no header can carry it", secretVar)
	}
	if err := checkBrokerURL("BROKER_URL", base); err != nil {
		return "", "", err
	}
	return base, secret, nil
}

// checkBrokerURL accepts an http:// or https:// base URL of the broker, given as name
// (BROKER_URL, or a flag); plain http only to a loopback host, since every call carries a run
// token or an API key. The error names the host only (the URL may hold user information).
func checkBrokerURL(name, base string) error {
	u, err := url.Parse(base)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return usagef("%s must start with http:// or https://", name)
	case u.User != nil:
		// Every message naming the URL would repeat the password, and broker never reads it.
		return usagef("%s must not carry a user name or password: broker authenticates with the run token or the API key", name)
	case u.Scheme == "http" && !config.IsLoopbackHost(u.Hostname()):
		return usagef("%s must use https:// to reach %q: plain http is allowed only on a loopback host, so that no token or key crosses the network in clear", name, u.Hostname())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(base, "#"):
		// The CLI appends /v1/... to the URL's path; after a query or a fragment it would not.
		return usagef("%s must be a base URL (scheme, host, optional port and path) with no query or fragment", name)
	}
	return nil
}

// apiError is an error answer from the broker, in its envelope.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d %s)", strings.TrimSuffix(e.Message, "."), e.Status, e.Code)
}

// post sends body as JSON to path and decodes a 200 answer into out.
func (c *workerClient) post(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("request to %s: %w", c.baseURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.runToken)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach broker at %s: %w", c.baseURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp.Body, maxResponseBytes)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(resp, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("broker's answer is not the expected JSON: %w", err)
	}
	return nil
}

// readAnswer reads body whole, or fails when it is longer than limit: an answer cut at the cap
// is never judged by its first part.
func readAnswer(body io.Reader, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading broker's answer: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("broker's answer is longer than the %d bytes the CLI reads", limit)
	}
	return raw, nil
}

// answerError reads the error envelope of a failed answer.
func answerError(resp *http.Response, raw []byte) error {
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(raw, &env) != nil || env.Error.Code == "" {
		return &apiError{Status: resp.StatusCode, Code: "unknown", Message: "broker answered " + resp.Status}
	}
	return &apiError{Status: resp.StatusCode, Code: env.Error.Code, Message: env.Error.Message}
}

// unwrapURLError drops net/url's "Post <url>:" prefix, which repeats what the caller says.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap()
	}
	return err
}
