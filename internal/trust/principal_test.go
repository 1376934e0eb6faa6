package trust

import "testing"

// TestValidAWSPrincipal: broker's own AWS principal, the one caller an assume-role trust policy
// admits, is one IAM role, user or role session of a 12-digit account, in any partition;
// a wildcard, a whole account or anything else is refused.
func TestValidAWSPrincipal(t *testing.T) {
	for _, tc := range []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::111122223333:role/broker", true},
		{"arn:aws:iam::111122223333:role/path/to/broker", true},
		{"arn:aws:iam::111122223333:user/broker", true},
		{"arn:aws:sts::111122223333:assumed-role/broker/session-1", true},
		{"arn:aws-us-gov:iam::111122223333:role/broker", true},
		{"arn:aws-cn:sts::111122223333:assumed-role/broker/s", true},
		{"*", false},
		{"", false},
		{"111122223333", false},
		{"arn:aws:iam::111122223333:root", false},
		{"arn:aws:iam::*:root", false},
		{"arn:aws:iam::*:role/broker", false},
		{"arn:aws:iam::111122223333:role/*", false},
		{"arn:aws:iam::11112222333:role/broker", false},
		{"arn:aws:iam::111122223333:group/admins", false},
		{"arn:aws:sts::111122223333:role/broker", false},
		{"arn:aws:iam::111122223333:assumed-role/broker/s", false},
		{"arn:aws:iam::111122223333:role/", false},
		{"arn:aws:iam::111122223333:role/broker x", false},
		{"broker-role", false},
		{" arn:aws:iam::111122223333:role/broker", false},
		{"arn:aws:iam::111122223333:role/broker\n", false},
	} {
		if got := ValidAWSPrincipal(tc.arn); got != tc.want {
			t.Errorf("ValidAWSPrincipal(%q) = %v, want %v", tc.arn, got, tc.want)
		}
	}
}
