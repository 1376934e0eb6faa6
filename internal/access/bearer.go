package access

import (
	"fmt"
	"net/http"
	"strings"
)

// BearerToken returns the token of the request's single `Authorization: Bearer <token>`
// header. The scheme is matched case-insensitively; it must be followed by exactly one space
// and one non-empty token of visible ASCII characters (no whitespace, control character or
// anything beyond ASCII, which no key or run token holds). Anything else returns an
// error wrapping ErrUnauthenticated whose message never repeats the header's value.
func BearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", fmt.Errorf("%w: the Authorization header is missing", ErrUnauthenticated)
	case 1:
	default:
		return "", fmt.Errorf("%w: more than one Authorization header", ErrUnauthenticated)
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: the Authorization header must use the Bearer scheme", ErrUnauthenticated)
	}
	if !found || token == "" {
		return "", fmt.Errorf("%w: the Authorization header has no bearer token", ErrUnauthenticated)
	}
	for _, r := range token {
		if r <= ' ' || r >= 0x7f {
			return "", fmt.Errorf("%w: the Authorization header must hold exactly one bearer token", ErrUnauthenticated)
		}
	}
	return token, nil
}
