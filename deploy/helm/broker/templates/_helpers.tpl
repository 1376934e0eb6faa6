{{/* The name of the chart's objects: the release name, plus "-broker" unless it says broker. */}}
{{- define "broker.fullname" -}}
{{- if contains "broker" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-broker" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "broker.selectorLabels" -}}
app.kubernetes.io/name: broker
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "broker.labels" -}}
{{ include "broker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "broker.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-secret" (include "broker.fullname" .)) -}}
{{- end -}}

{{/* Where the init container puts the assembled configuration and the private files. */}}
{{- define "broker.runDir" -}}/run/broker{{- end -}}

{{/*
broker.configDir holds the assembled broker.yaml: a directory of the run volume that only
broker's user may write (mode 0700). broker refuses a configuration file in a directory others
may write unless it is sticky; the run volume's root is 0777, sticky or not depending on its
medium (the kernel's default mode of a tmpfs root is 1777, a node's disk gives 0777).
*/}}
{{- define "broker.configDir" -}}{{ include "broker.runDir" . }}/config{{- end -}}

{{/*
broker.config is broker.yaml without its secrets (the ConfigMap): the values' config with the
settings the chart decides laid over it.
*/}}
{{- define "broker.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- range $k := list "store" "api_keys" "issuer" "listen" -}}
{{- if hasKey $cfg $k -}}
{{- fail (printf "config.%s is set by the chart (see values.yaml), not under config" $k) -}}
{{- end -}}
{{- end -}}
{{- if hasKey $cfg "tls" -}}
{{- fail "config.tls is not for this chart: broker serves plain HTTP on its port (its probes and ServiceMonitor speak HTTP); terminate TLS at the ingress" -}}
{{- end -}}
{{- if hasKey $cfg "keys" -}}
{{- fail "config.keys is set by the chart (backend redis, the KEK of the Secret): set the algorithm and the rotation with the chart's keys.algorithm and keys.rotation values (see values.yaml), not under config" -}}
{{- end -}}
{{- with .Values.auditWebhook.url -}}
{{- $audit := deepCopy (get $cfg "audit" | default dict) -}}
{{- $_ := set $audit "sinks" (append (get $audit "sinks" | default list) (include "broker.auditWebhookSink" $ | fromYaml)) -}}
{{- $_ := set $cfg "audit" $audit -}}
{{- end -}}
{{- $keys := dict "backend" "redis" "algorithm" .Values.keys.algorithm "redis" (dict "encryption_key_file" (printf "%s/kek" (include "broker.runDir" .))) -}}
{{- with .Values.keys.rotation }}{{ $_ := set $keys "rotation" . }}{{ end -}}
{{- $forced := dict "issuer" .Values.issuer "listen" (printf "0.0.0.0:%d" (int .Values.port)) "keys" $keys -}}
{{- if .Values.trustedProxies -}}
{{- $http := deepCopy (get $cfg "http" | default dict) -}}
{{- $_ := set $http "trusted_proxies" .Values.trustedProxies -}}
{{- $_ := set $forced "http" $http -}}
{{- end -}}
{{- toYaml (mustMergeOverwrite $cfg $forced) -}}
{{- end -}}

{{/*
broker.auditWebhookSink is the audit sink of auditWebhook: a webhook signing with the secret
file the init container copies from the Secret's audit-webhook-secret, which must then hold
one (secrets.auditWebhookSecret, or the existingSecret's key).
*/}}
{{- define "broker.auditWebhookSink" -}}
{{- $secret := .Values.secrets.auditWebhookSecret -}}
{{- if and (not .Values.existingSecret) (not $secret) -}}
{{- fail "auditWebhook.url is set: secrets.auditWebhookSecret is required (openssl rand -hex 32), or an existingSecret holding audit-webhook-secret" -}}
{{- end -}}
{{- if and $secret (lt (len (trim $secret)) 16) -}}
{{- fail "secrets.auditWebhookSecret must be at least 16 bytes (openssl rand -hex 32): broker refuses a shorter webhook secret" -}}
{{- end -}}
{{- $sink := dict "webhook" (dict "url" .Values.auditWebhook.url "secret_file" (printf "%s/audit-webhook-secret" (include "broker.runDir" .))) -}}
{{- with .Values.auditWebhook.name }}{{ $_ := set $sink "name" . }}{{ end -}}
{{- toYaml $sink -}}
{{- end -}}

{{/* broker.secretConfig is the part of broker.yaml that is secret: store (the Redis URL may
hold a password) and the API keys' hashes. */}}
{{- define "broker.secretConfig" -}}
{{- if not .Values.redis.url -}}{{- fail "redis.url is required: several replicas share state through Redis" -}}{{- end -}}
{{- $s := dict "store" (dict "redis" (dict "url" .Values.redis.url)) -}}
{{- with .Values.apiKeys }}{{ $_ := set $s "api_keys" . }}{{ end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* broker.containerSecurity is every container's security context. */}}
{{- define "broker.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end -}}


{{/* broker.drainSeconds is config.http.shutdown_timeout (broker's drain on SIGTERM; 30s when
unset) in whole seconds, for the pod's grace period. */}}
{{- define "broker.drainSeconds" -}}
{{- $d := "30s" -}}
{{- with .Values.config }}{{ with .http }}{{ with .shutdown_timeout }}{{ $d = toString . }}{{ end }}{{ end }}{{ end -}}
{{- if regexMatch "^[0-9]+s$" $d -}}
{{- trimSuffix "s" $d | atoi -}}
{{- else if regexMatch "^[0-9]+m$" $d -}}
{{- mul (trimSuffix "m" $d | atoi) 60 -}}
{{- else if regexMatch "^[0-9]+m[0-9]+s$" $d -}}
{{- $parts := regexSplit "m" (trimSuffix "s" $d) -1 -}}
{{- add (mul (index $parts 0 | atoi) 60) (index $parts 1 | atoi) -}}
{{- else -}}
{{- fail (printf "config.http.shutdown_timeout %q: write it in whole seconds or minutes (45s, 2m, 1m30s) so that the chart can give the pod a longer grace period" $d) -}}
{{- end -}}
{{- end -}}
