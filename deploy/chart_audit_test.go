package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/brokerhq/broker/configcheck"
)

// testWebhookSecret is an audit webhook secret of the length broker requires; tests only.
const testWebhookSecret = "0123456789abcdef0123456789abcdef"

// TestChartAuditWebhook renders the chart with auditWebhook set: the sink reaches broker.yaml
// after any sinks and settings under config.audit (a file sink, on a volume of extraVolumes),
// broker accepts the assembled configuration, and the webhook's secret file, copied by the init
// container, is one broker reads. Without
// a secret to sign with, or with one broker would refuse, the chart refuses to render.
func TestChartAuditWebhook(t *testing.T) {
	const url = "https://siem.example.com/broker"
	fileSink := configcheck.AuditSink{Name: "trail", Kind: "file", Target: "/var/log/broker/audit.jsonl"}
	webhook := configcheck.AuditSink{Name: "siem", Kind: "webhook", Target: url, SecretFile: "/run/broker/audit-webhook-secret"}
	userAudit := map[string]any{
		"checkpoint": map[string]any{"every": 500},
		"sinks":      []any{map[string]any{"name": "trail", "file": map[string]any{"path": fileSink.Target}}},
	}
	for _, tc := range []struct {
		name string
		vals map[string]any
		// secret is the Secret's data when the chart does not render it.
		secret map[string][]byte
		want   []configcheck.AuditSink
	}{
		{
			name: "chart's secret",
			vals: map[string]any{
				"secrets":      map[string]any{"kek": testKEK, "auditWebhookSecret": testWebhookSecret},
				"auditWebhook": map[string]any{"url": url, "name": "siem"},
			},
			want: []configcheck.AuditSink{webhook},
		},
		{
			name: "merged with config.audit",
			vals: map[string]any{
				"secrets":      map[string]any{"kek": testKEK, "auditWebhookSecret": testWebhookSecret},
				"auditWebhook": map[string]any{"url": url, "name": "siem"},
				"config":       map[string]any{"audit": userAudit},
				// Where the file sink writes, as values.yaml shows it: a claim every replica shares and
				// that outlives them (broker's root filesystem is read-only).
				"extraVolumes":      []any{map[string]any{"name": "audit", "persistentVolumeClaim": map[string]any{"claimName": "broker-audit"}}},
				"extraVolumeMounts": []any{map[string]any{"name": "audit", "mountPath": "/var/log/broker"}},
			},
			want: []configcheck.AuditSink{fileSink, webhook},
		},
		{
			name: "existing secret",
			vals: map[string]any{"existingSecret": "broker-prod", "auditWebhook": map[string]any{"url": url}},
			secret: map[string][]byte{
				"config.yaml":          []byte("store:\n  redis:\n    url: rediss://redis.prod:6380/1\n"),
				"kek":                  []byte(testKEK + "\n"),
				"audit-webhook-secret": []byte(testWebhookSecret + "\n"),
			},
			want: []configcheck.AuditSink{{Name: derivedName("webhook", url), Kind: "webhook", Target: url, SecretFile: webhook.SecretFile}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := renderChart(t, tc.vals)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			r := decodeAll(t, files)
			checkDeployment(t, r)
			checkAround(t, r)
			secret := tc.secret
			if secret == nil {
				if string(r.secret.Data["audit-webhook-secret"]) != testWebhookSecret {
					t.Fatalf("the Secret's audit-webhook-secret is %d bytes, not secrets.auditWebhookSecret", len(r.secret.Data["audit-webhook-secret"]))
				}
				secret = r.secret.Data
			}
			sum := checkAssembledConfig(t, r, secret)
			if !slices.Equal(sum.AuditSinks, tc.want) {
				t.Errorf("audit sinks %+v, want %+v", sum.AuditSinks, tc.want)
			}
			if !slices.Contains(sum.PrivateFiles, webhook.SecretFile) {
				t.Errorf("private files %v: the webhook's secret file is not among them", sum.PrivateFiles)
			}
			if strings.Contains(r.configMap.Data["broker.yaml"], testWebhookSecret) {
				t.Error("the ConfigMap holds the webhook secret")
			}
			if tc.vals["config"] != nil {
				var cm struct {
					Audit struct {
						Checkpoint struct{ Every int } `json:"checkpoint"`
					} `json:"audit"`
				}
				if err := sigsyaml.Unmarshal([]byte(r.configMap.Data["broker.yaml"]), &cm); err != nil || cm.Audit.Checkpoint.Every != 500 {
					t.Errorf("audit.checkpoint.every %d (%v): config.audit's other settings are lost", cm.Audit.Checkpoint.Every, err)
				}
			}
		})
	}
	for _, tc := range []struct {
		name string
		vals map[string]any
		want string
	}{
		{"no secret", map[string]any{"secrets": map[string]any{"kek": testKEK}, "auditWebhook": map[string]any{"url": url}},
			"auditWebhook.url is set: secrets.auditWebhookSecret is required"},
		{"short secret", map[string]any{"secrets": map[string]any{"kek": testKEK, "auditWebhookSecret": " 0123456789abcde \n"}, "auditWebhook": map[string]any{"url": url}},
			"secrets.auditWebhookSecret must be at least 16 bytes"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if _, err := renderChart(t, tc.vals); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("render = %v, want a refusal saying %q", err, tc.want)
			}
		})
	}
	t.Run("broker refuses a plain http webhook", func(t *testing.T) {
		files, err := renderChart(t, map[string]any{
			"secrets":      map[string]any{"kek": testKEK, "auditWebhookSecret": testWebhookSecret},
			"auditWebhook": map[string]any{"url": "http://siem.example.com/broker"},
		})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		r := decodeAll(t, files)
		_, hostPath := runInit(t, r.deployment.Spec.Template.Spec, r.configMap, r.secret.Data)
		data, err := os.ReadFile(hostPath(r.deployment.Spec.Template.Spec.Containers[0].Args[1]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := configcheck.Check("broker.yaml", data); err == nil || !strings.Contains(err.Error(), "audit.sinks[0].webhook.url") {
			t.Errorf("configcheck = %v, want broker's refusal of the plain http webhook", err)
		}
	})
}

// derivedName is the name broker gives a sink without one: its kind, "-" and the first 8 hex
// digits of the SHA-256 of its URL or path.
func derivedName(kind, target string) string {
	sum := sha256.Sum256([]byte(target))
	return kind + "-" + hex.EncodeToString(sum[:4])
}
