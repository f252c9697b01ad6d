{{/* Chart name, truncated to 63 characters. */}}
{{- define "okr-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name when it already contains the chart name (release "okr-operator" ->
"okr-operator", the names config/default uses). */}}
{{- define "okr-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "okr-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "okr-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "okr-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "okr-operator.labels" -}}
helm.sh/chart: {{ include "okr-operator.chart" . }}
{{ include "okr-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: okr-operator
{{- end }}

{{- define "okr-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "okr-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "okr-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* OKR_RULE_LABELS: k=v pairs sorted by key. */}}
{{- define "okr-operator.ruleLabels" -}}
{{- $pairs := list }}
{{- range $key := keys .Values.ruleLabels | sortAlpha }}
{{- $pairs = append $pairs (printf "%s=%s" $key (get $.Values.ruleLabels $key)) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/*
The rules on okr.dev objects and generated objects (okr_operator.deploy.rbac._OKR_RULES): in the
ClusterRole of a cluster-wide install, in each watched namespace's Role of a namespace-scoped one.
*/}}
{{- define "okr-operator.okrRules" -}}
- apiGroups: [okr.dev]
  resources: [objectives, keyresults, servicelevelobjectives, maintenancewindows]
  verbs: [get, list, watch, patch]
- apiGroups: [okr.dev]
  resources: [objectives/status, keyresults/status, servicelevelobjectives/status, maintenancewindows/status]
  verbs: [patch]
- apiGroups: [okr.dev]
  resources: [objectives/finalizers, keyresults/finalizers, servicelevelobjectives/finalizers, maintenancewindows/finalizers]
  verbs: [update]
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [argoproj.io]
  resources: [analysistemplates]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}
