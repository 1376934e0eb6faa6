package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestTimeFieldRange pins the edges of what TimeField writes: years 0 and 9999, and zone
// offsets under 24 hours, exactly as encoding/json writes them; years -1 and 10000, and offsets of
// 24 hours or more (which Marshal refuses), give ok=false and leave b as it was.
// Guards against: TimeField writing an offset of 24 hours or more, which encoding/json refuses
// Guards against: TimeField `y < 0` -> `y <= 0`
// Guards against: TimeField `y < 0 ||` dropped
// Guards against: TimeField `y > 9999` -> `y >= 9999`
// Guards against: TimeField `return b, false` -> returning b with more appended
func TestTimeFieldRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		tm   time.Time
		ok   bool
	}{
		{"year 0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"year 0 offset", time.Date(0, 1, 1, 12, 0, 0, 5, time.FixedZone("", -3600)), true},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{"year -1", time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{"year -100", time.Date(-100, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"offset 23:59", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600-60)), true},
		{"offset -23:59", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(24*3600-60))), true},
		{"offset 24:00", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)), false},
		{"offset -24:00", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)), false},
		{"offset 99:59", time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 99*3600+59*60)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(map[string]time.Time{"t": tc.tm})
			if (err == nil) != tc.ok {
				t.Fatalf("encoding/json: err %v, the table says ok=%v", err, tc.ok)
			}
			in := []byte(`{"a":1`)
			got, ok := TimeField(bytes.Clone(in), "t", tc.tm)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%s)", ok, tc.ok, got)
			}
			if !ok {
				if !bytes.Equal(got, in) {
					t.Fatalf("refused time changed b: %s", got)
				}
				return
			}
			if want = append([]byte(`{"a":1,`), want[1:]...); !bytes.Equal(append(got, '}'), want) {
				t.Fatalf("got %s}, want %s", got, want)
			}
		})
	}
}

// TestFieldsBuildObjects pins how Field, StringField and IntField join members: no comma at the
// start of b or after '{', a comma otherwise, and the values exactly as encoding/json writes them
// (so the object decodes to the values put in).
// Guards against: Field `len(b) > 0 &&` dropped (panics on an empty b)
// Guards against: Field: comma not appended
// Guards against: StringField without its member name
// Guards against: IntField in another base / without its member name
func TestFieldsBuildObjects(t *testing.T) {
	if got := Field(nil, "a"); string(got) != `"a":` {
		t.Errorf("Field(nil) = %s, want \"a\":", got)
	}
	if got := Field([]byte{}, "a"); string(got) != `"a":` {
		t.Errorf("Field(empty) = %s, want \"a\":", got)
	}
	for _, n := range []int64{0, 1, -1, 10, 255, 1e9, math.MaxInt64, math.MinInt64} {
		for _, s := range []string{"", "x", `"\` + "\x00<\u2028", "é\xff"} {
			b := StringField([]byte{'{'}, "s", s)
			b = IntField(b, "n", n)
			b = StringField(b, "t", s)
			b = append(b, '}')
			want, _ := json.Marshal(struct {
				S string `json:"s"`
				N int64  `json:"n"`
				T string `json:"t"`
			}{s, n, s})
			if !bytes.Equal(b, want) {
				t.Fatalf("got %s, want %s", b, want)
			}
		}
	}
}
