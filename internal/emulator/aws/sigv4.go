package awsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// SigV4 constants.
const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4Terminator = "aws4_request"
	sigV4Service    = "sts"
	amzDateFormat   = "20060102T150405Z"
	maxClockSkew    = 15 * time.Minute
)

const signatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// sigV4Auth is a parsed Authorization header.
type sigV4Auth struct {
	accessKey     string
	date          string // yyyymmdd of the credential scope
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// authenticate verifies r's Signature Version 4 Authorization header over body against the
// configured long-term AccessKeys and returns the access key id that signed it.
func (e *Emulator) authenticate(r *http.Request, body []byte) (string, *apiError) {
	return e.verifySigV4(r, body, func(akid string) (string, *apiError) {
		// Long-term keys have no session token: a token beside one (a stale
		// AWS_SESSION_TOKEN left with static keys) belongs to no session of that key.
		secret, ok := e.keys[akid]
		if !ok || r.Header.Get("X-Amz-Security-Token") != "" {
			return "", invalidClientTokenID()
		}
		return secret, nil
	})
}

// verifySigV4 verifies r's Signature Version 4 Authorization header over body with the secret
// that secretOf finds for the signing access key id (or the error it answers), and returns
// that access key id.
func (e *Emulator) verifySigV4(r *http.Request, body []byte, secretOf func(akid string) (string, *apiError)) (string, *apiError) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken",
			message: "Request is missing Authentication Token"}
	}
	auth, aerr := parseAuthorization(header)
	if aerr != nil {
		return "", aerr
	}
	if auth.service != sigV4Service {
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", sigV4Service)}
	}
	if auth.region != e.region {
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", auth.region)}
	}
	secret, aerr := secretOf(auth.accessKey)
	if aerr != nil {
		return "", aerr
	}
	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil || !slices.Contains(auth.signedHeaders, "x-amz-date") {
		return "", incompleteSignature("AWS authentication requires a valid signed X-Amz-Date header.")
	}
	if !strings.HasPrefix(amzDate, auth.date) {
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
				auth.date + "' != '" + amzDate[:8] + "'"}
	}
	now := e.now().UTC()
	switch {
	case signedAt.Before(now.Add(-maxClockSkew)):
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
				amzDate, now.Add(-maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	case signedAt.After(now.Add(maxClockSkew)):
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch",
			message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
				amzDate, now.Add(maxClockSkew).Format(amzDateFormat), now.Format(amzDateFormat))}
	}
	scope := strings.Join([]string{auth.date, auth.region, auth.service, sigV4Terminator}, "/")
	canonical := canonicalRequest(r, body, auth.signedHeaders)
	stringToSign := strings.Join([]string{sigV4Algorithm, amzDate, scope, hexSHA256([]byte(canonical))}, "\n")
	key := auth.signingKey(secret)
	want := hex.EncodeToString(hmacSHA256(key, []byte(stringToSign)))
	// The signature is lower-case hex and compared as sent: upper-case digits do not match.
	if !hmac.Equal([]byte(want), []byte(auth.signature)) {
		return "", &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch", message: signatureMismatch}
	}
	return auth.accessKey, nil
}

func incompleteSignature(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", message: msg}
}

// parseAuthorization reads
// "AWS4-HMAC-SHA256 Credential=<akid>/<date>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<hex>".
func parseAuthorization(h string) (*sigV4Auth, *apiError) {
	rest, ok := strings.CutPrefix(h, sigV4Algorithm+" ")
	if !ok {
		return nil, incompleteSignature("Unsupported AWS 'algorithm': only " + sigV4Algorithm + " is accepted.")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, incompleteSignature("Authorization header is malformed.")
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return nil, incompleteSignature(fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != sigV4Terminator || cred[0] == "" || len(cred[1]) != 8 {
		return nil, incompleteSignature("Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.Contains(signed, "host") {
		return nil, incompleteSignature("The host header must be signed.")
	}
	if !slices.IsSorted(signed) {
		return nil, incompleteSignature("SignedHeaders must be sorted.")
	}
	return &sigV4Auth{
		accessKey: cred[0], date: cred[1], region: cred[2], service: cred[3],
		signedHeaders: signed, signature: fields["Signature"],
	}, nil
}

// canonicalRequest builds the SigV4 canonical request of r as received.
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(canonicalURI(r) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range signedHeaders {
		b.WriteString(name + ":" + canonicalHeaderValue(r, name) + "\n")
	}
	b.WriteString("\n")
	b.WriteString(strings.Join(signedHeaders, ";") + "\n")
	b.WriteString(hexSHA256(body))
	return b.String()
}

// canonicalURI is the path as the client sent it (r.RequestURI, untouched by handlers that
// strip prefixes), URI-encoded once more as SigV4 requires for every service but S3.
func canonicalURI(r *http.Request) string {
	raw := r.RequestURI
	if u, err := url.ParseRequestURI(raw); err == nil {
		raw = u.EscapedPath()
	} else {
		raw, _, _ = strings.Cut(raw, "?")
	}
	if raw == "" {
		return "/"
	}
	return uriEncode(raw, keepSlash)
}

// canonicalQuery sorts the query parameters by name then value, each URI-encoded.
func canonicalQuery(rawQuery string) string {
	values, _ := url.ParseQuery(rawQuery)
	pairs := make([]string, 0, len(values))
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k, encodeSlash)+"="+uriEncode(v, encodeSlash))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// canonicalHeaderValue joins a header's values with commas, each trimmed and with runs of
// spaces collapsed. Go moves Host out of the header map, and may hold Content-Length only in
// r.ContentLength.
func canonicalHeaderValue(r *http.Request, name string) string {
	var values []string
	switch {
	case name == "host":
		values = []string{r.Host}
	case name == "content-length" && len(r.Header.Values(name)) == 0 && r.ContentLength >= 0:
		values = []string{fmt.Sprint(r.ContentLength)}
	default:
		values = r.Header.Values(name)
	}
	for i, v := range values {
		values[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(values, ",")
}

// slashes says whether uriEncode encodes '/': a canonical path keeps it, a query name or value
// encodes it.
type slashes int

const (
	keepSlash slashes = iota
	encodeSlash
)

// uriEncode percent-encodes every byte except the RFC 3986 unreserved characters, and '/' as
// slash says.
func uriEncode(s string, slash slashes) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && slash == keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// signingKey derives the SigV4 key of secret for a's credential scope: HMAC chain over the
// scope's date, region and service, and the terminator.
func (a *sigV4Auth) signingKey(secret string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(a.date))
	k = hmacSHA256(k, []byte(a.region))
	k = hmacSHA256(k, []byte(a.service))
	return hmacSHA256(k, []byte(sigV4Terminator))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
