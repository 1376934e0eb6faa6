package redisstore

import "testing"

// TestEvictionOf: maxmemory 0 evicts nothing whatever the policy; with maxmemory, allkeys-*
// may evict any key, volatile-* only keys with an expiry, and a policy not known is unknown.
func TestEvictionOf(t *testing.T) {
	tests := []struct {
		maxmemory int64
		policy    string
		want      eviction
	}{
		{0, "allkeys-lru", evictsNothing},
		{0, "volatile-lru", evictsNothing},
		{0, "something-new", evictsNothing},
		{1 << 20, "noeviction", evictsNothing},
		{1 << 20, "allkeys-lru", evictsAny},
		{1 << 20, "allkeys-lfu", evictsAny},
		{1 << 20, "allkeys-random", evictsAny},
		{1 << 20, "volatile-lru", evictsExpiring},
		{1 << 20, "volatile-lfu", evictsExpiring},
		{1 << 20, "volatile-random", evictsExpiring},
		{1 << 20, "volatile-ttl", evictsExpiring},
		{1 << 20, "something-new", evictsUnknown},
	}
	for _, tt := range tests {
		if got := evictionOf(tt.maxmemory, tt.policy); got != tt.want {
			t.Errorf("evictionOf(%d, %q) = %d, want %d", tt.maxmemory, tt.policy, got, tt.want)
		}
	}
}

// TestParseMemoryInfo reads maxmemory and maxmemory_policy out of INFO memory, and fails when
// either is missing or maxmemory is not a number.
func TestParseMemoryInfo(t *testing.T) {
	tests := []struct {
		name, info string
		maxmemory  int64
		policy     string
		wantErr    bool
	}{
		{"both", "# Memory\r\nused_memory:1000\r\nmaxmemory:1048576\r\nmaxmemory_human:1.00M\r\nmaxmemory_policy:allkeys-lru\r\n", 1 << 20, "allkeys-lru", false},
		{"no limit", "maxmemory:0\nmaxmemory_policy:noeviction\n", 0, "noeviction", false},
		{"no policy", "# Memory\r\nmaxmemory:0\r\n", 0, "", true},
		{"no maxmemory", "maxmemory_policy:noeviction\r\n", 0, "", true},
		{"maxmemory not a number", "maxmemory:lots\r\nmaxmemory_policy:noeviction\r\n", 0, "", true},
		{"empty", "", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parseMemoryInfo(tt.info)
			if (m.err != nil) != tt.wantErr {
				t.Fatalf("parseMemoryInfo err = %v, want error %v", m.err, tt.wantErr)
			}
			if !tt.wantErr && (m.maxmemory != tt.maxmemory || m.policy != tt.policy) {
				t.Errorf("parseMemoryInfo = %d %q, want %d %q", m.maxmemory, m.policy, tt.maxmemory, tt.policy)
			}
		})
	}
}
