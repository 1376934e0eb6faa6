package audit_test

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestParseCursor: a cursor reads back only as the stores write it, so that one position has
// one cursor; anything else is ErrBadCursor.
func TestParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"5", 5, false},
		{"9223372036854775807", 9223372036854775807, false},
		{"+5", 0, true},
		{"007", 0, true},
		{"00", 0, true},
		{"-1", 0, true},
		{"-0", 0, true},
		{" 5", 0, true},
		{"5 ", 0, true},
		{"0x5", 0, true},
		{"9223372036854775808", 0, true},
		{"five", 0, true},
	}
	for _, tt := range tests {
		got, err := audit.ParseCursor(tt.in)
		switch {
		case tt.bad && !errors.Is(err, audit.ErrBadCursor):
			t.Errorf("ParseCursor(%q) = %d, %v; want ErrBadCursor", tt.in, got, err)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("ParseCursor(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}
