package gcpemu

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

// A mapping expression is the subset of Google's CEL attribute mappings that trust
// configurations use: one assertion.<claim>, or a concatenation with " + " of assertion.<claim>
// terms and double-quoted string literals, such as
// assertion.spaceId + "/" + assertion.callerId.
var (
	claimTerm   = regexp.MustCompile(`^assertion\.([A-Za-z_][A-Za-z0-9_]*)$`)
	literalTerm = regexp.MustCompile(`^"([^"\\]*)"$`)
)

// errMapping is a mapping that cannot be evaluated against a token's claims: a concatenation
// naming a claim the token lacks or one that is not a string, as CEL's + takes only strings.
var errMapping = errors.New("attribute mapping cannot be evaluated")

// term is one operand of a mapping expression: a claim's name, or a literal.
type term struct {
	claim, literal string
}

// parseMapping reads expr as a mapping expression.
func parseMapping(expr string) ([]term, error) {
	parts := strings.Split(expr, " + ")
	out := make([]term, 0, len(parts))
	for _, part := range parts {
		if m := claimTerm.FindStringSubmatch(part); m != nil {
			out = append(out, term{claim: m[1]})
			continue
		}
		if m := literalTerm.FindStringSubmatch(part); m != nil && len(parts) > 1 {
			out = append(out, term{literal: m[1]})
			continue
		}
		return nil, fmt.Errorf("%q is not assertion.<claim>, or a concatenation of them and string literals", expr)
	}
	return out, nil
}

// evaluate applies terms to claims. A single claim that is absent gives no value (ok false, no
// error), and one that is a boolean or a number gives its JSON text (a number in decimals,
// without an exponent); a concatenation needs every claim it names to be a string.
func evaluate(terms []term, claims oidctrust.Claims) (value string, ok bool, err error) {
	if len(terms) == 1 {
		switch v := claims[terms[0].claim].(type) {
		case string:
			return v, true, nil
		case bool:
			return strconv.FormatBool(v), true, nil
		case float64:
			// A number gives its decimal text, never an exponent: 1234567, not 1.234567e+06.
			return strconv.FormatFloat(v, 'f', -1, 64), true, nil
		}
		return "", false, nil
	}
	var b strings.Builder
	for _, t := range terms {
		if t.claim == "" {
			b.WriteString(t.literal)
			continue
		}
		s, isString := claims[t.claim].(string)
		if !isString {
			return "", false, fmt.Errorf("%w: assertion.%s is not a string", errMapping, t.claim)
		}
		b.WriteString(s)
	}
	return b.String(), true, nil
}
