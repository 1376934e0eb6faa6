package audit

import "testing"

// TestHexValueTakesLowerCaseDigitsOnly: every byte is a hex digit's value exactly when it is one
// of 0-9 and a-f (the hashes the chain writes are lower case), and no other byte passes.
func TestHexValueTakesLowerCaseDigitsOnly(t *testing.T) {
	const digits = "0123456789abcdef"
	for c := range 256 {
		v, ok := hexValue(byte(c))
		want := -1
		for i := range len(digits) {
			if digits[i] == byte(c) {
				want = i
			}
		}
		if ok != (want >= 0) || ok && int(v) != want {
			t.Errorf("hexValue(%q) = %d, %v; want %d", rune(c), v, ok, want)
		}
	}
}
