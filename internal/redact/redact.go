package redact

import "strings"

// Prefix starts every secret broker makes, and this is the one place it is written: an API
// key's secret (config.APIKeySecretPrefix) and a run token (runs.TokenPrefix, brk_run_).
const Prefix = "brk_"

// Mark replaces what followed Prefix in a secret taken out of text.
const Mark = "…"

// Secrets returns s with every secret in it cut to Prefix followed by Mark: from each Prefix,
// wherever it lies (also inside a longer word: a secret pasted after other text is a secret
// still), up to the next character no secret holds. Text with no Prefix in it is returned as
// it is, without a copy.
func Secrets(s string) string {
	i := strings.Index(s, Prefix)
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
		i = strings.Index(s, Prefix)
	}
	b.WriteString(s)
	return b.String()
}

// secretByte reports whether c may be part of a secret: secrets are written in the URL-safe
// base64 alphabet.
func secretByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
