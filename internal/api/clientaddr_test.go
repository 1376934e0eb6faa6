package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48"),
		netip.MustParsePrefix("192.0.2.9/32")}
	cases := []struct {
		name   string
		remote string
		xff    []string // one X-Forwarded-For header per element
		want   string   // "" means not an IP address
	}{
		{"untrusted peer", "198.51.100.7:4000", nil, "198.51.100.7"},
		{"untrusted peer ignores XFF", "198.51.100.7:4000", []string{"203.0.113.5"}, "198.51.100.7"},
		{"untrusted peer cannot blame a proxy", "198.51.100.7:4000", []string{"10.1.1.1"}, "198.51.100.7"},
		{"trusted peer without XFF", "10.0.0.2:4000", nil, "10.0.0.2"},
		{"trusted peer, one hop", "10.0.0.2:4000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"right-most untrusted wins over a spoofed left", "10.0.0.2:4000", []string{"1.2.3.4, 203.0.113.5"}, "203.0.113.5"},
		{"trusted hops are skipped", "10.0.0.2:4000", []string{"1.2.3.4, 203.0.113.5, 10.9.9.9, 192.0.2.9"}, "203.0.113.5"},
		{"several headers read in order", "10.0.0.2:4000", []string{"1.2.3.4", "203.0.113.5, 10.9.9.9"}, "203.0.113.5"},
		{"all hops trusted: left-most", "10.0.0.2:4000", []string{"10.3.3.3, 10.9.9.9"}, "10.3.3.3"},
		{"garbage blames the last trusted hop", "10.0.0.2:4000", []string{"203.0.113.5, nonsense, 10.9.9.9"}, "10.9.9.9"},
		{"empty entry blames the peer", "10.0.0.2:4000", []string{"203.0.113.5, "}, "10.0.0.2"},
		{"hop with port", "10.0.0.2:4000", []string{"203.0.113.5:5555"}, "203.0.113.5"},
		{"IPv6 hop in brackets with port", "10.0.0.2:4000", []string{"[2001:db8:1::5]:443"}, "2001:db8:1::5"},
		{"IPv6 hop in brackets", "10.0.0.2:4000", []string{"[2001:db8:1::5]"}, "2001:db8:1::5"},
		{"IPv6 trusted peer", "[2001:db8:ffff::1]:4000", []string{"2001:db8:1::5, 2001:db8:ffff::2"}, "2001:db8:1::5"},
		{"IPv4-mapped peer is IPv4", "[::ffff:10.0.0.2]:4000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"IPv4-mapped hop is IPv4", "10.0.0.2:4000", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"zone dropped", "[fe80::1%eth0]:4000", nil, "fe80::1"},
		{"peer not an IP", "@", []string{"203.0.113.5"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := clientAddr(r, trusted)
			switch {
			case tc.want == "" && ok:
				t.Errorf("clientAddr = %v, want not ok", got)
			case tc.want != "" && (!ok || got != netip.MustParseAddr(tc.want)):
				t.Errorf("clientAddr = %v, %v; want %s", got, ok, tc.want)
			}
		})
	}
}

func TestSourceKey(t *testing.T) {
	cases := []struct{ remote, want string }{
		{"198.51.100.7:1", "ip:198.51.100.7"},
		{"[2001:db8:1:2:aaaa::1]:1", "ip:2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:1", "ip:2001:db8:1:2::/64"}, // same /64: same count
		{"[2001:db8:1:3::1]:1", "ip:2001:db8:1:3::/64"},
		{"[::ffff:198.51.100.7]:1", "ip:198.51.100.7"},
		{"@", "peer:@"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
		r.RemoteAddr = tc.remote
		if got := sourceKey(r, nil); got != tc.want {
			t.Errorf("sourceKey(%s) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}
