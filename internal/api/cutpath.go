package api

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/brokerhq/broker/internal/redact"
)

// The search Router.CutPath makes for secrets in text bound for a log line: what it asks about
// (segments, tokens, parts of tokens, tokens spanning segments) and the bounds on its cost.

// maxSecretLookups bounds the look-ups CutPath makes for one text; past it, every further part
// that would be asked about is cut, unasked.
const maxSecretLookups = 256

// maxJoinedSegments bounds how many consecutive segments CutPath also asks about joined by '/'
// (a secret holding '/', sent as it is or percent-encoded, spans segments of the decoded path).
const maxJoinedSegments = 4

// maxInnerSeparators bounds the soft separators a token may hold for CutPath to ask about every
// part of it between two of them; a token with more is asked about its parts from its start and
// to its end only.
const maxInnerSeparators = 3

// secretCutter asks known about the parts of one text, up to maxSecretLookups.
type secretCutter struct {
	known    func(string) bool
	literals map[string]bool
	asked    int
}

// secret reports whether s is a secret: known says so, or the look-ups are spent. Nothing, a
// route literal and a brk_ secret (cut already by redact.Secrets) are not asked.
func (c *secretCutter) secret(s string) bool {
	if s == "" || s == redact.Mark || c.literals[s] || strings.HasPrefix(s, redact.Prefix) {
		return false
	}
	c.asked++
	return c.asked > maxSecretLookups || c.known(s)
}

// hardSeparators end a token: a secret holds none of them, nor any control character.
const hardSeparators = " \"'()<>[]{}`" + redact.Mark

// hardSeparator reports whether r ends a token (see hardSeparators).
func hardSeparator(r rune) bool {
	return r < 0x20 || r == 0x7f || strings.ContainsRune(hardSeparators, r)
}

// maxPartsToken bounds the length of a token whose parts CutPath asks about; a longer token
// holding soft separators is cut whole, unasked (no key's secret is that long), so that a
// request of a long path costs its log line no more than linear time.
const maxPartsToken = 256

// softSeparators may stand beside a secret or inside one.
const softSeparators = ".:;,=&+"

// cutSegment returns seg with each secret found in it (see CutPath) replaced by redact.Mark, and
// whether it found one.
func (c *secretCutter) cutSegment(seg string) (string, bool) {
	if c.secret(seg) {
		return redact.Mark, true
	}
	if !strings.ContainsFunc(seg, hardSeparator) && !strings.ContainsAny(seg, softSeparators) {
		return seg, false
	}
	var b strings.Builder
	found := false
	for len(seg) > 0 {
		end := strings.IndexFunc(seg, hardSeparator)
		if end == 0 {
			_, size := utf8.DecodeRuneInString(seg)
			b.WriteString(seg[:size])
			seg = seg[size:]
			continue
		}
		if end < 0 {
			end = len(seg)
		}
		tok := seg[:end]
		if a, z, ok := c.secretIn(tok); ok {
			b.WriteString(tok[:a] + redact.Mark + tok[z:])
			found = true
		} else {
			b.WriteString(tok)
		}
		seg = seg[end:]
	}
	return b.String(), found
}

// cutSpanning looks for a secret holding '/' (base64's alphabet has it) that spans segs[0] and
// up to the following ones, beside other text or not: the token ending segs[0] joined by '/' to
// the segments after it, the last up to its first hard separator, the middle ones whole (a hard
// separator or a route literal in one ends the search). Found, it returns the segments from
// segs[0] to segs[j] as one, the secret cut.
func (c *secretCutter) cutSpanning(segs []string) (string, int, bool) {
	left := segs[0]
	k := strings.LastIndexFunc(left, hardSeparator)
	head := ""
	if k >= 0 {
		_, size := utf8.DecodeRuneInString(left[k:])
		head, left = left[:k+size], left[k+size:]
	}
	tok := left
	for j := 1; j < len(segs); j++ {
		right := segs[j]
		if c.literals[right] {
			return "", 0, false
		}
		e := strings.IndexFunc(right, hardSeparator)
		if e < 0 {
			e = len(right)
		}
		tok += "/" + right[:e]
		if len(tok) > maxPartsToken {
			return "", 0, false
		}
		if a, z, ok := c.secretIn(tok); ok {
			return head + tok[:a] + redact.Mark + tok[z:] + right[e:], j, true
		}
		if e < len(right) {
			return "", 0, false
		}
	}
	return "", 0, false
}

// secretIn returns the bounds of a secret in tok: tok whole, or a part of it from or to a soft
// separator, or between two consecutive ones (any part between two, when tok holds at most
// maxInnerSeparators of them). A token longer than maxPartsToken is cut whole, unasked.
func (c *secretCutter) secretIn(tok string) (int, int, bool) {
	if c.asked >= maxSecretLookups || c.secret(tok) {
		return 0, len(tok), true // past the look-ups, a token is cut whole, unasked
	}
	if !strings.ContainsAny(tok, softSeparators) || strings.Trim(tok, softSeparators) == "" {
		return 0, 0, false
	}
	if len(tok) > maxPartsToken {
		return 0, len(tok), true
	}
	var seps []int
	for i := range len(tok) {
		if strings.IndexByte(softSeparators, tok[i]) >= 0 {
			seps = append(seps, i)
		}
	}
	// Bounds a part may start at, and end at: the token's ends and each separator's sides.
	bounds := []int{0}
	for _, p := range seps {
		bounds = append(bounds, p, p+1)
	}
	bounds = slices.Compact(append(bounds, len(tok)))
	type part struct{ a, z int }
	var parts []part
	if len(seps) <= maxInnerSeparators {
		for _, a := range bounds {
			for _, z := range bounds {
				if z > a {
					parts = append(parts, part{a, z})
				}
			}
		}
	} else {
		for _, b := range bounds {
			parts = append(parts, part{0, b}, part{b, len(tok)})
		}
		prev := 0
		for _, p := range append(seps, len(tok)) {
			parts = append(parts, part{prev, p})
			prev = p + 1
		}
	}
	for _, pt := range parts {
		if pt.z <= pt.a || (pt.a == 0 && pt.z == len(tok)) {
			continue
		}
		if piece := tok[pt.a:pt.z]; strings.Trim(piece, softSeparators) != "" && c.secret(piece) {
			if c.asked > maxSecretLookups {
				return 0, len(tok), true
			}
			return pt.a, pt.z, true
		}
	}
	return 0, 0, false
}
