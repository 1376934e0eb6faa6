package deploy

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TestServiceNamesValidForEveryReleaseName checks that every Service the chart renders has a
// name the API server takes (a DNS-1035 label, at most 63 characters) for release names up to
// Helm's 53 characters, so that `helm install` never fails half-way.
func TestServiceNamesValidForEveryReleaseName(t *testing.T) {
	const helmMaxReleaseName = 53
	for _, name := range []string{
		strings.Repeat("a", helmMaxReleaseName),
		"prod-" + strings.Repeat("b", helmMaxReleaseName-len("prod-broker")) + "-broker",
	} {
		t.Run(name, func(t *testing.T) {
			files, err := renderRelease(t, release{name: name, caps: chartutil.DefaultCapabilities},
				chartValues(nil))
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decodeAll(t, files)
			for _, name := range []string{r.service.Name, r.publicService.Name} {
				if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
					t.Errorf("Service %q (%d characters): %s", name, len(name),
						strings.Join(errs, "; "))
				}
			}
		})
	}
}
