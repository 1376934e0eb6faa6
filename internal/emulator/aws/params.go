package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Parameter patterns and limits from the STS API reference.
var (
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	tagPattern         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// policyPattern is the session policy's character set: tab, line feed, carriage return and
	// U+0020 to U+00FF.
	policyPattern = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+$`)
	// arnPattern is an ARN's character set: tab, line feed, carriage return, printable ASCII,
	// U+0085 and the rest of Unicode but surrogates, U+FFFE and U+FFFF.
	arnPattern = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{0085}\x{00A0}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]+$`)
)

// STS's own limits, kept apart from package provider's so that the emulator checks what broker
// sends against STS, not against broker's own table.
const (
	minDurationSeconds = 900
	maxDurationSeconds = 43200
	defaultDuration    = 3600
	maxSessionTags     = 50
	// maxPolicyARNs is how many managed session policies (PolicyArns) one request may name.
	maxPolicyARNs = 10
)

// validation collects parameter constraint violations the way STS reports them:
// "N validation error(s) detected: Value 'x' at 'field' failed to satisfy constraint: ...".
type validation struct {
	msgs []string
}

func (v *validation) fail(value *string, field, constraint string) {
	shown := "null"
	if value != nil {
		shown = "'" + *value + "'"
	}
	v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown, field, constraint))
}

// failSecret reports a violation without echoing the value.
func (v *validation) failSecret(field, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", field, constraint))
}

// strParam describes a string parameter: its query name, the field name its errors give, and
// its constraints.
type strParam struct {
	Name, Field    string
	Required       bool
	MinLen, MaxLen int
	Pattern        *regexp.Regexp // nil for any value
}

// sourceIdentityParam is AssumeRole's SourceIdentity, whose rule a web identity token's
// SourceIdentityClaim is held to as well.
var sourceIdentityParam = strParam{Name: "SourceIdentity", Field: "sourceIdentity", MinLen: 2, MaxLen: 64, Pattern: sessionNamePattern}

// fits reports whether value meets sp's length and pattern.
func (sp strParam) fits(value string) bool {
	n := length(value)
	return n >= sp.MinLen && n <= sp.MaxLen && (sp.Pattern == nil || sp.Pattern.MatchString(value))
}

// str checks the string parameter sp of p: present when required, its length and its pattern.
func (v *validation) str(p url.Values, sp strParam) string {
	if _, ok := p[sp.Name]; !ok {
		if sp.Required {
			v.fail(nil, sp.Field, "Member must not be null")
		}
		return ""
	}
	value := p.Get(sp.Name)
	switch n := length(value); {
	case n < sp.MinLen:
		v.fail(&value, sp.Field, fmt.Sprintf("Member must have length greater than or equal to %d", sp.MinLen))
	case n > sp.MaxLen:
		v.fail(&value, sp.Field, fmt.Sprintf("Member must have length less than or equal to %d", sp.MaxLen))
	case sp.Pattern != nil && !sp.Pattern.MatchString(value):
		v.fail(&value, sp.Field, "Member must satisfy regular expression pattern: "+strings.Trim(sp.Pattern.String(), "^$"))
	}
	return value
}

// secret checks the required secret parameter sp of p (a token), its length alone, without
// ever echoing it.
func (v *validation) secret(p url.Values, sp strParam) string {
	if _, ok := p[sp.Name]; !ok {
		v.fail(nil, sp.Field, "Member must not be null")
		return ""
	}
	value := p.Get(sp.Name)
	switch {
	case len(value) < sp.MinLen:
		v.failSecret(sp.Field, fmt.Sprintf("Member must have length greater than or equal to %d", sp.MinLen))
	case len(value) > sp.MaxLen:
		v.failSecret(sp.Field, fmt.Sprintf("Member must have length less than or equal to %d", sp.MaxLen))
	}
	return value
}

// duration checks DurationSeconds (900..43200, default 3600).
func (v *validation) duration(p url.Values) int {
	if _, ok := p["DurationSeconds"]; !ok {
		return defaultDuration
	}
	raw := p.Get("DurationSeconds")
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		v.fail(&raw, "durationSeconds", "Member must be a number")
	case n < minDurationSeconds:
		v.fail(&raw, "durationSeconds", fmt.Sprintf("Member must have value greater than or equal to %d", minDurationSeconds))
	case n > maxDurationSeconds:
		v.fail(&raw, "durationSeconds", fmt.Sprintf("Member must have value less than or equal to %d", maxDurationSeconds))
	}
	return n
}

// policyArns checks PolicyArns.member.N.arn, the managed session policies: at most
// maxPolicyARNs, each an ARN of 20 to 2048 characters.
func (v *validation) policyArns(p url.Values) {
	n := 0
	for ; ; n++ {
		name := "PolicyArns.member." + strconv.Itoa(n+1) + ".arn"
		if _, ok := p[name]; !ok {
			break
		}
		v.str(p, strParam{Name: name, Field: "policyArns." + strconv.Itoa(n+1) + ".member.arn", MinLen: 20, MaxLen: 2048, Pattern: arnPattern})
	}
	if n > maxPolicyARNs {
		v.msgs = append(v.msgs, fmt.Sprintf("Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyARNs))
	}
}

func (v *validation) err() *apiError {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return validationError("1 validation error detected: " + v.msgs[0])
	}
	return validationError(fmt.Sprintf("%d validation errors detected: %s", len(v.msgs), strings.Join(v.msgs, "; ")))
}

func validationError(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", message: msg}
}

// checkMaxDuration refuses a duration above the role's maximum, after authorization as STS does.
func checkMaxDuration(r *role, seconds int) *apiError {
	if time.Duration(seconds)*time.Second > r.MaxSessionDuration {
		return validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return nil
}

// length is the length of s as STS measures its strings: in UTF-16 code units, so that a
// character outside ASCII counts once (twice beyond U+FFFF), not by its UTF-8 bytes.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// validTagKey reports whether key is a session tag key: 1 to 128 characters of the tag pattern.
func validTagKey(key string) bool {
	return length(key) >= 1 && length(key) <= 128 && tagPattern.MatchString(key)
}

// checkTag validates one session tag key and value.
func checkTag(key, value string) error {
	if !validTagKey(key) {
		return fmt.Errorf("tag key %q is not valid", key)
	}
	if length(value) > 256 || !tagPattern.MatchString(value) {
		return fmt.Errorf("value of tag %q is not valid", key)
	}
	return nil
}

// tagKeySet holds session tag keys as STS compares them, ignoring case.
type tagKeySet map[string]struct{}

// add records key and reports whether it is new: false when the set already holds a key equal
// to it but for case.
func (s tagKeySet) add(key string) bool {
	folded := strings.ToLower(key)
	if _, dup := s[folded]; dup {
		return false
	}
	s[folded] = struct{}{}
	return true
}

// parseAWSTags reads the https://aws.amazon.com/tags claim: principal_tags is an object of
// tag key to a list of exactly one string, transitive_tag_keys an optional list of keys among
// them.
func parseAWSTags(raw any) (map[string]string, []string, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("the claim is not an object")
	}
	principal, ok := obj["principal_tags"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("principal_tags is missing or not an object")
	}
	if len(principal) > maxSessionTags {
		return nil, nil, fmt.Errorf("%d tags exceed the limit of %d", len(principal), maxSessionTags)
	}
	tags := make(map[string]string, len(principal))
	seen := make(tagKeySet, len(principal))
	for k, v := range principal {
		list, ok := v.([]any)
		if !ok || len(list) != 1 {
			return nil, nil, fmt.Errorf("tag %q must have a list of exactly one value", k)
		}
		s, ok := list[0].(string)
		if !ok {
			return nil, nil, fmt.Errorf("tag %q must have a string value", k)
		}
		if err := checkTag(k, s); err != nil {
			return nil, nil, err
		}
		if !seen.add(k) {
			return nil, nil, fmt.Errorf("tag %q is duplicated (keys are case-insensitive)", k)
		}
		tags[k] = s
	}
	var transitive []string
	if rawKeys, present := obj["transitive_tag_keys"]; present {
		list, ok := rawKeys.([]any)
		if !ok {
			return nil, nil, fmt.Errorf("transitive_tag_keys is not a list")
		}
		for _, k := range list {
			s, ok := k.(string)
			if !ok {
				return nil, nil, fmt.Errorf("transitive_tag_keys holds a non-string")
			}
			if _, ok := tags[s]; !ok {
				return nil, nil, fmt.Errorf("transitive tag key %q is not a principal tag", s)
			}
			transitive = append(transitive, s)
		}
	}
	return tags, transitive, nil
}

// parseQueryTags reads AssumeRole's Tags.member.N.Key / Tags.member.N.Value parameters.
func parseQueryTags(p url.Values) (map[string]string, *apiError) {
	tags := map[string]string{}
	seen := tagKeySet{}
	for n := 1; ; n++ {
		prefix := "Tags.member." + strconv.Itoa(n) + "."
		key, hasKey := p[prefix+"Key"]
		_, hasValue := p[prefix+"Value"]
		if !hasKey && hasValue {
			// A tag is a Key and a Value: a Value alone is a tag whose Key is null.
			return nil, validationError(fmt.Sprintf("1 validation error detected: Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", n))
		}
		if !hasKey {
			break
		}
		if n > maxSessionTags {
			return nil, validationError(fmt.Sprintf("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags))
		}
		// A tag's Value is required: it may be empty, but a Key without one is refused.
		if !hasValue {
			return nil, validationError(fmt.Sprintf("1 validation error detected: Value null at 'tags.%d.member.value' failed to satisfy constraint: Member must not be null", n))
		}
		value := p.Get(prefix + "Value")
		if err := checkTag(key[0], value); err != nil {
			return nil, validationError("1 validation error detected: " + err.Error())
		}
		if !seen.add(key[0]) {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue",
				message: "Duplicate tag keys found. Please note that Tag keys are case insensitive."}
		}
		tags[key[0]] = value
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// parseQueryTransitive reads AssumeRole's TransitiveTagKeys.member.N parameters: at most
// maxSessionTags keys, each a valid tag key (both 400 ValidationError), then each a key of tags
// (case-insensitively, as tag keys compare; else 400 InvalidParameterValue).
func parseQueryTransitive(p url.Values, tags map[string]string) ([]string, *apiError) {
	var keys []string
	for n := 1; ; n++ {
		key, ok := p["TransitiveTagKeys.member."+strconv.Itoa(n)]
		if !ok {
			break
		}
		keys = append(keys, key[0])
	}
	if len(keys) > maxSessionTags {
		return nil, validationError(fmt.Sprintf("1 validation error detected: Value at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags))
	}
	for i, key := range keys {
		if !validTagKey(key) {
			return nil, validationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'transitiveTagKeys.%d.member' failed to satisfy constraint: Member must satisfy regular expression pattern: %s and have length between 1 and 128",
				key, i+1, strings.Trim(tagPattern.String(), "^$")))
		}
	}
	for _, key := range keys {
		tagged := false
		for t := range tags {
			tagged = tagged || strings.EqualFold(t, key)
		}
		if !tagged {
			return nil, &apiError{status: http.StatusBadRequest, code: "InvalidParameterValue",
				message: "The specified transitive tag key must be included in the requested tags."}
		}
	}
	return keys, nil
}

// Session policy faults, each answered 400 MalformedPolicyDocument with STS's message for it.
var (
	// errPolicyNotJSON: the policy is not exactly one JSON object.
	errPolicyNotJSON = errors.New("the policy is not in the valid JSON format")
	// errPolicySyntax: the policy is a JSON object but not a policy document.
	errPolicySyntax = errors.New("syntax errors in policy")
)

// checkSessionPolicy checks the optional Policy parameter of p as STS does before using it: it
// must be exactly one JSON object holding a Statement that is an object or a non-empty list of
// objects, else 400 MalformedPolicyDocument.
//
// The inline policy and the managed policies' ARNs share maxSessionPolicyText characters: more,
// and the request is refused 400 PackedPolicyTooLarge.
func checkSessionPolicy(p url.Values) *apiError {
	if _, ok := p["Policy"]; ok {
		err := parsePolicyDocument(p.Get("Policy"))
		switch {
		case errors.Is(err, errPolicyNotJSON):
			return malformedPolicy("The policy is not in the valid JSON format.")
		case err != nil:
			return malformedPolicy("Syntax errors in policy.")
		}
	}
	total := length(p.Get("Policy"))
	for n := 1; ; n++ {
		arn, ok := p["PolicyArns.member."+strconv.Itoa(n)+".arn"]
		if !ok {
			break
		}
		total += length(arn[0])
	}
	if total > maxSessionPolicyText {
		return &apiError{status: http.StatusBadRequest, code: "PackedPolicyTooLarge",
			message: fmt.Sprintf("Packed policy consumes %d%% of allotted space, please use smaller policy for this request.", total*100/maxSessionPolicyText)}
	}
	return nil
}

// maxSessionPolicyText bounds the characters of a request's session policies, the inline one
// and the managed ones' ARNs together.
const maxSessionPolicyText = 2048

func malformedPolicy(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "MalformedPolicyDocument", message: msg}
}

// parsePolicyDocument reads doc as exactly one JSON object (only whitespace may follow it),
// else errPolicyNotJSON, whose Statement member is an object or a non-empty list of objects,
// else errPolicySyntax.
func parsePolicyDocument(doc string) error {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&top); err != nil {
		return fmt.Errorf("%w: %w", errPolicyNotJSON, err)
	}
	if top == nil {
		return fmt.Errorf("%w: null is not an object", errPolicyNotJSON)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: more follows the JSON object", errPolicyNotJSON)
	}
	stmt, ok := top["Statement"]
	if !ok {
		return fmt.Errorf("%w: no Statement", errPolicySyntax)
	}
	var one map[string]json.RawMessage
	if json.Unmarshal(stmt, &one) == nil && one != nil {
		return nil
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(stmt, &list) != nil || len(list) == 0 {
		return fmt.Errorf("%w: Statement is neither an object nor a non-empty list", errPolicySyntax)
	}
	for _, st := range list {
		if st == nil {
			return fmt.Errorf("%w: a Statement element is null", errPolicySyntax)
		}
	}
	return nil
}

// matchesSubject applies the trust's conditions on sub: with no condition at all any sub
// matches; otherwise one of Subject and Subjects must.
func (t Trust) matchesSubject(sub string) bool {
	if len(t.Subjects) == 0 {
		return matchSubject(t.Subject, sub)
	}
	if t.Subject != "" && matchSubject(t.Subject, sub) {
		return true
	}
	for _, p := range t.Subjects {
		if p != "" && matchSubject(p, sub) {
			return true
		}
	}
	return false
}

// matchSubject applies the trust condition on sub: empty matches any; a pattern with '*' is
// StringLike ('*' any run, '?' any one character); otherwise StringEquals.
func matchSubject(pattern, sub string) bool {
	switch {
	case pattern == "":
		return true
	case !strings.Contains(pattern, "*"):
		return pattern == sub
	}
	return globMatch(pattern, sub)
}

// globMatch matches s against a pattern of '*' and '?' wildcards, iteratively with
// backtracking to the last star (linear in practice, never exponential).
func globMatch(pattern, s string) bool {
	p, i := []rune(pattern), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(i) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == i[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
