package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/provider"
)

// MaxAudienceLength bounds an audience, in bytes.
const MaxAudienceLength = 256

// uriMarks are the characters besides ASCII letters and digits that RFC 3986 lets a URI hold:
// the rest of unreserved, reserved, and '%'. '@' comes before ':', so that the list, quoted in
// an error, is not taken for a login in a URL and redacted (RedactLogins).
const uriMarks = "@-._~!$&'()*+,;=%:/?#[]"

// CheckAudience returns nil when aud may be a token's aud claim: 1 to MaxAudienceLength
// characters, each a printable ASCII character a URI may hold (letters, digits and
// @-._~!$&'()*+,;=%:/?#[]). Anything else (spaces, controls, bidi overrides, any non-ASCII)
// would travel into signed tokens, upstream requests and the audit trail. The error completes
// a sentence that starts with the audience's name.
func CheckAudience(aud string) error {
	switch {
	case aud == "":
		return errors.New("must not be empty")
	case len(aud) > MaxAudienceLength:
		return fmt.Errorf("is longer than %d bytes", MaxAudienceLength)
	}
	for i := range len(aud) {
		if c := aud[i]; !isASCIIAlnum(c) && strings.IndexByte(uriMarks, c) < 0 {
			r, _ := utf8.DecodeRuneInString(aud[i:])
			return fmt.Errorf("holds %+q at byte %d; only printable ASCII URI characters (letters, digits and %s) are allowed",
				r, i, uriMarks)
		}
	}
	return nil
}

// checkAudiences applies CheckAudience to tokens.default_audience and every integration's
// audience, and holds an AWS web-identity integration's audience to the length of an IAM OIDC
// provider's client ID, which STS compares it with. The message quotes the audience after CheckAudience's words, whose list of allowed
// characters holds '@': quoted after an audience written as a URL, the list would read as the
// end of a login in it, and RedactLogins would take the audience, the character refused and its
// offset with it.
func (v *validator) checkAudiences() {
	if aud := v.c.Tokens.DefaultAudience; aud != "" {
		if err := CheckAudience(aud); err != nil {
			v.add("tokens.default_audience", aud, "the audience %v (it defaults to the issuer's host): %+q", err, aud)
		}
	}
	for i, in := range v.c.Integrations {
		if in.Audience == "" {
			continue
		}
		if err := CheckAudience(in.Audience); err != nil {
			v.add(joinIndex("integrations", i)+".audience", in.Audience, "the audience %v: %+q", err, in.Audience)
			continue
		}
		if in.AWS != nil && in.AWS.Mode != AWSModeAssumeRole && len(in.Audience) > provider.AWSMaxClientIDLength {
			v.add(joinIndex("integrations", i)+".audience", in.Audience,
				"the audience is longer than the %d characters of an IAM OIDC provider's client ID: %+q",
				provider.AWSMaxClientIDLength, in.Audience)
		}
	}
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
