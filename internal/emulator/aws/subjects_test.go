package awsemu

import "testing"

func TestTrustSubjects(t *testing.T) {
	cases := []struct {
		trust Trust
		sub   string
		want  bool
	}{
		{Trust{}, "anything", true},
		{Trust{Subject: "a:b"}, "a:b", true},
		{Trust{Subject: "a:b"}, "a:c", false},
		{Trust{Subjects: []string{"x", "a:*"}}, "a:zz", true},
		{Trust{Subjects: []string{"x", "y"}}, "z", false},
		{Trust{Subject: "z", Subjects: []string{"x"}}, "z", true},
		{Trust{Subjects: []string{""}}, "z", false}, // an empty entry is no wildcard
	}
	for _, tc := range cases {
		if got := tc.trust.matchesSubject(tc.sub); got != tc.want {
			t.Errorf("%+v matches %q = %v, want %v", tc.trust, tc.sub, got, tc.want)
		}
	}
}
