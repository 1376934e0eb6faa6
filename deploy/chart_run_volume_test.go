package deploy

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChartConfigOnEitherMedium: broker accepts the configuration the chart assembles whatever
// the medium of the run volume. The root of an emptyDir on the node's disk has mode 0777 and is
// not sticky, where broker refuses a configuration file below it (anyone could replace the
// directory holding it); a tmpfs root (medium Memory) is 1777 only by the kernel's default. The
// broker container mounts the volume read-only, so nobody there may write its root whatever its
// mode, and the configuration lies in a directory of the volume only broker's user may write.
func TestChartConfigOnEitherMedium(t *testing.T) {
	for _, tc := range []struct {
		name   string
		medium corev1.StorageMedium
	}{
		{"tmpfs (medium Memory, as rendered)", corev1.StorageMediumMemory},
		{"node's disk (medium unset)", corev1.StorageMediumDefault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := renderChart(t, map[string]any{"secrets": map[string]any{"kek": testKEK}})
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decodeAll(t, files)
			vols := r.deployment.Spec.Template.Spec.Volumes
			found := false
			for i := range vols {
				if vols[i].EmptyDir != nil {
					vols[i].EmptyDir.Medium, found = tc.medium, true
				}
			}
			if !found {
				t.Fatal("the pod has no emptyDir volume")
			}
			checkAssembledConfig(t, r, r.secret.Data)
		})
	}
}
