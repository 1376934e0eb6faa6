package config

// The alphabets of subject placeholder values, on which the template rules and checks rely.

// charSet is a set of bytes.
type charSet [4]uint64

func setOf(chars string) charSet {
	var s charSet
	for i := 0; i < len(chars); i++ {
		s = s.with(chars[i])
	}
	return s
}

func rangeSet(lo, hi byte) charSet {
	var s charSet
	for c := int(lo); c <= int(hi); c++ {
		s = s.with(byte(c))
	}
	return s
}

func (s charSet) with(c byte) charSet    { s[c/64] |= 1 << (c % 64); return s }
func (s charSet) without(c byte) charSet { s[c/64] &^= 1 << (c % 64); return s }
func (s charSet) has(c byte) bool        { return s[c/64]&(1<<(c%64)) != 0 }

func (s charSet) or(t charSet) charSet {
	return charSet{s[0] | t[0], s[1] | t[1], s[2] | t[2], s[3] | t[3]}
}

func (s charSet) and(t charSet) charSet {
	return charSet{s[0] & t[0], s[1] & t[1], s[2] & t[2], s[3] & t[3]}
}

func (s charSet) empty() bool { return s == charSet{} }

var (
	lowerChars = rangeSet('a', 'z')
	upperChars = rangeSet('A', 'Z')
	digitChars = rangeSet('0', '9')
	idFirst    = lowerChars.or(digitChars)
	idRest     = idFirst.with('-')
)

// valueChars over-approximates the values of one placeholder: one character of first, then any
// number of rest.
type valueChars struct{ first, rest charSet }

// holds reports whether some value may hold c.
func (v valueChars) holds(c byte) bool { return v.first.has(c) || v.rest.has(c) }

// accepts reports whether x is a value of v.
func (v valueChars) accepts(x string) bool {
	if x == "" || !v.first.has(x[0]) {
		return false
	}
	for i := 1; i < len(x); i++ {
		if !v.rest.has(x[i]) {
			return false
		}
	}
	return true
}

// placeholderChars holds, per placeholder, an alphabet every value belongs to: ids follow
// IDPattern, a space path joins ids with '/', run ids are ULIDs (digits and upper case), run
// types and phases are upper-case words, the caller type and the scope lower-case words.
var placeholderChars = map[string]valueChars{
	"spaceId":    {idFirst, idRest},
	"spacePath":  {idFirst, idRest.with('/')},
	"callerType": {lowerChars, lowerChars},
	"callerId":   {idFirst, idRest},
	"runId":      {upperChars.or(digitChars), upperChars.or(digitChars)},
	"runType":    {upperChars, upperChars.with('_')},
	"runPhase":   {upperChars, upperChars.with('_')},
	"scope":      {lowerChars, lowerChars},
}

// SubjectValueAllowed reports whether value belongs to the alphabet this package assumes for
// placeholder name; a value outside it would void the template checks.
func SubjectValueAllowed(name, value string) bool {
	v, ok := placeholderChars[name]
	return ok && v.accepts(value)
}
