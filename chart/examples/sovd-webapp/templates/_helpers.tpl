{{- define "sovd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: sovd-backend
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: backend
{{- end -}}

{{- define "sovd.selectorLabels" -}}
app.kubernetes.io/name: sovd-backend
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
