package trust

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/brokerhq/broker/internal/config"
)

// Random configurations for TestSubjectsProperty: ids that are prefixes and joins of each
// other, and templates drawn from the grammar, often near each other.

// ulidChars is the alphabet of run ids (Crockford base32); the first character is at most 7.
const ulidChars = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func randomRunID(rng *rand.Rand) string {
	b := make([]byte, 26)
	for i := range b {
		b[i] = ulidChars[rng.IntN(len(ulidChars))]
	}
	b[0] = ulidChars[rng.IntN(8)]
	return string(b)
}

// craftedIDs are ids that are prefixes, suffixes and joins of each other, and words that
// templates use as literals.
var craftedIDs = []string{
	"a", "b", "c", "a-b", "b-c", "a-b-c", "net", "net-evil", "evil", "0", "00", "0-0", "a-",
	"read", "write", "stack", "space", "run", "scope", "x", "ab", "b-",
}

func randomID(rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		return craftedIDs[rng.IntN(len(craftedIDs))]
	}
	const first, rest = "ab0", "ab0-"
	b := []byte{first[rng.IntN(len(first))]}
	for n := rng.IntN(5); n > 0; n-- {
		b = append(b, rest[rng.IntN(len(rest))])
	}
	return string(b)
}

// literalPieces build literal text; they look like ids, run values and separators on purpose.
var literalPieces = []string{"a", "b", "-", "_", ".", "x", "stack", "space", "0", "A", "=", "net", "write", "@"}

func randomLiteral(rng *rand.Rand, max int) string {
	var b strings.Builder
	for n := rng.IntN(max + 1); n > 0; n-- {
		b.WriteString(literalPieces[rng.IntN(len(literalPieces))])
	}
	return b.String()
}

// shape is a template from the grammar: literal text lits[i] before placeholder names[i], and
// lits[len(names)] at the end. Literals between placeholders hold a separator.
type shape struct {
	names, lits []string
}

// randomSeparated draws literal text holding ':' or '/'.
func randomSeparated(rng *rand.Rand) string {
	sep := ":"
	if rng.IntN(3) == 0 {
		sep = "/"
	}
	return randomLiteral(rng, 1) + sep + randomLiteral(rng, 1)
}

// randomShape draws {callerId}, {scope} and up to three other placeholders in any order, with
// any literal text at either end.
func randomShape(rng *rand.Rand) shape {
	names := []string{"callerId", "scope"}
	for n := rng.IntN(4); n > 0; n-- {
		names = append(names, config.SubjectPlaceholders[rng.IntN(len(config.SubjectPlaceholders))])
	}
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	lits := make([]string, len(names)+1)
	for i := range lits {
		if i == 0 || i == len(names) {
			lits[i] = randomLiteral(rng, 2)
		} else {
			lits[i] = randomSeparated(rng)
		}
	}
	return shape{names, lits}
}

// mutate returns a copy of sh with one change: two placeholders swapped, one replaced, or one
// literal redrawn, so that templates in one configuration are often near each other.
func (sh shape) mutate(rng *rand.Rand) shape {
	out := shape{slices.Clone(sh.names), slices.Clone(sh.lits)}
	i, j := rng.IntN(len(out.names)), rng.IntN(len(out.names))
	switch rng.IntN(3) {
	case 0:
		out.names[i], out.names[j] = out.names[j], out.names[i]
	case 1:
		if out.names[i] != "callerId" && out.names[i] != "scope" {
			out.names[i] = config.SubjectPlaceholders[rng.IntN(len(config.SubjectPlaceholders))]
		}
	default:
		if k := rng.IntN(len(out.lits)); k == 0 || k == len(out.names) {
			out.lits[k] = randomLiteral(rng, 2)
		} else {
			out.lits[k] = randomSeparated(rng)
		}
	}
	return out
}

// template renders sh; a '/' next to {spacePath} becomes ':', as the grammar asks.
func (sh shape) template() string {
	var b strings.Builder
	for i, name := range sh.names {
		lit := sh.lits[i]
		if i > 0 && !strings.Contains(lit, ":") && (name == "spacePath" || sh.names[i-1] == "spacePath") {
			lit = strings.Replace(lit, "/", ":", 1)
		}
		b.WriteString(lit + "{" + name + "}")
	}
	b.WriteString(sh.lits[len(sh.names)])
	return b.String()
}

// randomConfig builds a space tree, stacks in it and the spaces' templates, drawn from a small
// pool so that spaces often share a template and sometimes differ.
func randomConfig(rng *rand.Rand) *config.Config {
	sh := randomShape(rng)
	pool := []string{"", sh.template()}
	for n := 1 + rng.IntN(2); n > 0; n-- {
		if rng.IntN(6) == 0 {
			sh = randomShape(rng)
		}
		sh = sh.mutate(rng)
		pool = append(pool, sh.template())
	}
	cfg := &config.Config{Issuer: "https://broker.example.com"}
	used := map[string]bool{config.RootSpace: true}
	cfg.Spaces = append(cfg.Spaces, config.Space{ID: config.RootSpace, SubjectTemplate: pool[rng.IntN(len(pool))]})
	for n := 1 + rng.IntN(5); n > 0; n-- {
		id := randomID(rng)
		if used[id] {
			continue
		}
		used[id] = true
		parent := cfg.Spaces[rng.IntN(len(cfg.Spaces))].ID
		cfg.Spaces = append(cfg.Spaces, config.Space{ID: id, Parent: parent, SubjectTemplate: pool[rng.IntN(len(pool))]})
	}
	stacks := map[string]bool{}
	for n := 2 + rng.IntN(5); n > 0; n-- {
		id := randomID(rng)
		if stacks[id] {
			continue
		}
		stacks[id] = true
		cfg.Stacks = append(cfg.Stacks, config.Stack{ID: id, Space: cfg.Spaces[rng.IntN(len(cfg.Spaces))].ID})
	}
	cfg.ApplyDefaults()
	return cfg
}
