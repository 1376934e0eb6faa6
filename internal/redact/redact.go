package redact

import "strings"

// Prefix starts every secret broker makes, and this is the one place it is written: an API
// key's secret (config.APIKeySecretPrefix) and a run token (runs.TokenPrefix, brk_run_).
const Prefix = "brk_"

// Mark replaces what followed Prefix in a secret taken out of text.
const Mark = "…"

// Secrets returns s with every secret in it cut to Prefix followed by Mark: from each Prefix,
// in any case of its ASCII letters (BRK_RUN_ is the same secret shouted), wherever it lies (also
// inside a longer word: a secret pasted after other text is a secret still), up to the next
// character no secret holds. Text with no Prefix in it is returned as it is, without a copy.
func Secrets(s string) string {
	i := Index(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		end := i + len(Prefix)
		for end < len(s) && secretByte(s[end]) {
			end++
		}
		b.WriteString(s[:i])
		b.WriteString(Prefix)
		b.WriteString(Mark)
		s = s[end:]
		i = Index(s)
	}
	b.WriteString(s)
	return b.String()
}

// Holds reports whether s holds Prefix anywhere, in any case of its ASCII letters.
func Holds(s string) bool { return Index(s) >= 0 }

// Index returns where the first Prefix in s starts, in any case of its ASCII letters, or -1:
// a secret's material follows its prefix whatever case the prefix was written in.
func Index(s string) int {
	last := Prefix[len(Prefix)-1]
	for from := len(Prefix) - 1; from < len(s); {
		j := strings.IndexByte(s[from:], last)
		if j < 0 {
			return -1
		}
		end := from + j + 1
		if start := end - len(Prefix); start >= 0 && strings.EqualFold(s[start:end], Prefix) {
			return start
		}
		from = end
	}
	return -1
}

// secretByte reports whether c may be part of a secret: secrets are written in the URL-safe
// base64 alphabet.
func secretByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
