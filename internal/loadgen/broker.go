package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Broker is a server to measure: its base URL, an API key that may create runs, and the stack
// to create them on.
type Broker struct {
	URL    string
	APIKey string
	Stack  string
	// Pid is the server's process id when this program started it, else 0.
	Pid int
	// Alg, when set, is the algorithm every token must be signed with to count.
	Alg string
}

// maxAnswer caps what the driver reads of a setup answer.
const maxAnswer = 1 << 20

// NewRun creates a TRACKED run of b.Stack and returns its run token.
func (b Broker) NewRun(ctx context.Context) (string, error) {
	body, _ := json.Marshal(map[string]string{"stack": b.Stack, "runType": "TRACKED"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL+"/v1/runs", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("create a run: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.APIKey)
	status, raw, err := do(req)
	if err != nil {
		return "", fmt.Errorf("create a run: %w", err)
	}
	if status != http.StatusCreated {
		return "", fmt.Errorf("create a run on stack %q: status %d: %.300s", b.Stack, status, raw)
	}
	var ans struct {
		RunToken string `json:"runToken"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.RunToken == "" {
		return "", fmt.Errorf("create a run: no run token in the answer (status %d)", status)
	}
	return ans.RunToken, nil
}

// TokenRequest is POST /v1/token with runToken, answered by a JWT.
func (b Broker) TokenRequest(runToken string) HTTPRequest {
	check := expectToken
	if b.Alg != "" {
		check = expectTokenOf(b.Alg)
	}
	return HTTPRequest{
		Method: http.MethodPost, URL: b.URL + "/v1/token",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + runToken}},
		Body:   []byte(`{"audience":"sts.amazonaws.com"}`),
		Check:  check,
	}
}

// TokenAlg creates a run of b.Stack, asks for one token with it and returns the alg of the
// token's JWS header: the algorithm the server signs its tokens with, which its discovery
// document does not tell (a server publishes the keys of every algorithm it keeps, such as an
// RS256 key for Azure beside its ES256 key).
func (b Broker) TokenAlg(ctx context.Context) (string, error) {
	runToken, err := b.NewRun(ctx)
	if err != nil {
		return "", err
	}
	tr := b.TokenRequest(runToken)
	req, err := http.NewRequestWithContext(ctx, tr.Method, tr.URL, bytes.NewReader(tr.Body))
	if err != nil {
		return "", fmt.Errorf("ask for a token: %w", err)
	}
	req.Header = tr.Header.Clone()
	status, raw, err := do(req)
	if err != nil {
		return "", fmt.Errorf("ask for a token: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("ask for a token on stack %q: status %d", b.Stack, status)
	}
	var ans struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Token == "" {
		return "", fmt.Errorf("ask for a token: no token in the answer of %d bytes", len(raw))
	}
	return jwsAlg(ans.Token)
}

// jwsAlg returns the alg of the protected header of a compact JWS. Its errors never quote the
// token.
func jwsAlg(token string) (string, error) {
	if strings.Count(token, ".") != 2 {
		return "", errors.New("the token is not a compact JWS (three dot-separated parts)")
	}
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("the token's header is not base64url: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", fmt.Errorf("the token's header is not a JSON object: %w", err)
	}
	if h.Alg == "" {
		return "", errors.New("the token's header names no alg")
	}
	return h.Alg, nil
}

// PublicDocs are the server's public documents as it serves them.
type PublicDocs struct {
	// DiscoveryURL and Discovery are the discovery document's URL and bytes.
	DiscoveryURL string
	Discovery    []byte
	// JWKSURL and JWKS are the key set's URL (the discovery's jwks_uri) and bytes.
	JWKSURL string
	JWKS    []byte
	// Algs are the signing algorithms the discovery names.
	Algs []string
}

// Public fetches the discovery document and the JWKS it names.
func (b Broker) Public(ctx context.Context) (PublicDocs, error) {
	d := PublicDocs{DiscoveryURL: b.URL + "/.well-known/openid-configuration"}
	var err error
	if d.Discovery, err = get(ctx, d.DiscoveryURL); err != nil {
		return d, err
	}
	var disc struct {
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(d.Discovery, &disc); err != nil || disc.JWKSURI == "" {
		return d, fmt.Errorf("discovery document of %s names no jwks_uri", b.URL)
	}
	// The issuer may be a public name in front of the target: fetch the JWKS from the target.
	d.JWKSURL, d.Algs = b.URL+pathOf(disc.JWKSURI), disc.Algs
	if d.JWKS, err = get(ctx, d.JWKSURL); err != nil {
		return d, err
	}
	return d, nil
}

// pathOf returns the path of an absolute URL.
func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		return u[i:]
	}
	return "/"
}

// get fetches url and expects 200.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	status, raw, err := do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, status)
	}
	return raw, nil
}

// setupClient makes the driver's setup calls (not measured).
var setupClient = &http.Client{Timeout: requestTimeout, Transport: &http.Transport{Proxy: nil, IdleConnTimeout: time.Minute}}

// do sends req and reads its answer.
func do(req *http.Request) (int, []byte, error) {
	resp, err := setupClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return resp.StatusCode, raw, err
}
