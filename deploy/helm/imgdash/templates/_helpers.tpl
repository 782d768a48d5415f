{{- define "imgdash.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "imgdash.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "imgdash.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imgdash.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ include "imgdash.fullname" . }}{{- else -}}default{{- end -}}
{{- end -}}

{{- define "imgdash.allowedHosts" -}}
{{- $hosts := prepend .Values.ingress.extraHosts (required "ingress.host is required: the name users open" .Values.ingress.host) -}}
{{- join "," $hosts -}}
{{- end -}}

{{- define "imgdash.csrfOrigins" -}}
{{- $origins := list -}}
{{- range (prepend .Values.ingress.extraHosts .Values.ingress.host) -}}
{{- $origins = append $origins (printf "https://%s" .) -}}
{{- end -}}
{{- join "," $origins -}}
{{- end -}}

{{- define "imgdash.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/*
The environment every imgdash container gets (web, worker, migrate, anchor). The secrets come
from an existing Secret; everything else from values. `databaseKey` picks the app role's URL
or the owner's (migrate).
*/}}
{{- define "imgdash.env" -}}
{{- $root := .root -}}
{{- $s := $root.Values.secrets -}}
{{- include "imgdash.secretEnv" (dict "name" "IMGDASH_SECRET_KEY" "secret" $s.name "key" $s.keys.secretKey) }}
{{ include "imgdash.secretEnv" (dict "name" "IMGDASH_TOKEN_KEYS" "secret" $s.name "key" $s.keys.tokenKeys) }}
{{ include "imgdash.secretEnv" (dict "name" "IMGDASH_AUDIT_KEY" "secret" $s.name "key" $s.keys.auditKey) }}
{{ include "imgdash.secretEnv" (dict "name" "DATABASE_URL" "secret" $s.name "key" (.databaseKey | default $s.keys.databaseUrl)) }}
{{ include "imgdash.secretEnv" (dict "name" "REDIS_URL" "secret" $s.name "key" $s.keys.redisUrl) }}
- name: IMGDASH_ALLOWED_HOSTS
  value: {{ include "imgdash.allowedHosts" $root | quote }}
- name: IMGDASH_CSRF_TRUSTED_ORIGINS
  value: {{ include "imgdash.csrfOrigins" $root | quote }}
- name: IMGDASH_BEHIND_PROXY
  value: "true"
- name: IMGDASH_TRUSTED_PROXY_COUNT
  value: {{ $root.Values.trustedProxyCount | quote }}
- name: IMGDASH_AUDIT_ANCHOR
  value: stdout
- name: IMGDASH_DATA_DIR
  value: /var/lib/imgdash
- name: IMGDASH_LOG_FORMAT
  value: {{ $root.Values.logFormat | default "json" | quote }}
- name: IMGDASH_METRICS_ALLOW
  value: {{ $root.Values.metricsAllow | default "127.0.0.0/8,::1/128" | quote }}
- name: PROMETHEUS_MULTIPROC_DIR
  value: /tmp/imgdash-metrics
{{- range $name, $value := $root.Values.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "imgdash.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
{{- end -}}

{{- define "imgdash.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* The only writable places: the data folder and /tmp, both per pod. */}}
{{- define "imgdash.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "imgdash.volumeMounts" -}}
- name: data
  mountPath: /var/lib/imgdash
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "imgdash.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Probes go round the ingress: they name an allowed host (Django answers 400 to others) and
say what the ingress would say, that the client came over HTTPS. */}}
{{- define "imgdash.probeHeaders" -}}
httpHeaders:
  - name: Host
    value: {{ .Values.ingress.host | quote }}
  - name: X-Forwarded-Proto
    value: https
{{- end -}}
