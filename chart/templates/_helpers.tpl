{{/* The chart's name, truncated to fit a label value. */}}
{{- define "strata.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* A release-scoped name for the chart's objects. */}}
{{- define "strata.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels every object gets (app.kubernetes.io/*). */}}
{{- define "strata.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "strata.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: migrations
{{- end -}}

{{- define "strata.selectorLabels" -}}
app.kubernetes.io/name: {{ include "strata.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The image: pinned by digest when one is given, else by tag. */}}
{{- define "strata.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The migration Job's name: Job names must fit a 63-character label value. */}}
{{- define "strata.jobName" -}}
{{- printf "%s-migrate" (include "strata.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{/* The service account the pods run as. */}}
{{- define "strata.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strata.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* A duration value (500ms, 5s, 2min, 1h, 0) in whole seconds, rounded up. */}}
{{- define "strata.seconds" -}}
{{- $d := toString . -}}
{{- $n := regexFind "^[0-9]+" $d | default "0" | atoi -}}
{{- if hasSuffix "ms" $d -}}{{ div (add $n 999) 1000 }}
{{- else if hasSuffix "min" $d -}}{{ mul $n 60 }}
{{- else if hasSuffix "h" $d -}}{{ mul $n 3600 }}
{{- else -}}{{ $n }}
{{- end -}}
{{- end -}}

{{/* Refuses values that cannot work: more than one database mode, a deadline shorter than
     one attempt's waits, a revert without its target. */}}
{{- define "strata.validate" -}}
{{- $db := .Values.database -}}
{{- $modes := list -}}
{{- if $db.existingSecret }}{{ $modes = append $modes (printf "database.existingSecret (%q)" $db.existingSecret) }}{{ end -}}
{{- if $db.url }}{{ $modes = append $modes "database.url" }}{{ end -}}
{{- if $db.host }}{{ $modes = append $modes "database.host" }}{{ end -}}
{{- if gt (len $modes) 1 -}}
{{- fail (printf "database: %s are set, and only one way to reach the database may be (set the others to \"\"; existingSecret defaults to \"strata-database\")" (join " and " $modes)) -}}
{{- end -}}
{{- $m := .Values.migration -}}
{{- $wait := add (include "strata.seconds" $m.lockWait | atoi) (include "strata.seconds" $m.connectTimeout | atoi) (int $m.deadlineMarginSeconds) -}}
{{- if lt (int $m.activeDeadlineSeconds) $wait -}}
{{- fail (printf "migration.activeDeadlineSeconds (%d) is shorter than one attempt may wait: lockWait (%s) + connectTimeout (%s) + deadlineMarginSeconds (%d) = %ds; raise it, or lower the waits" (int $m.activeDeadlineSeconds) $m.lockWait $m.connectTimeout (int $m.deadlineMarginSeconds) $wait) -}}
{{- end -}}
{{- if and $m.revert.enabled (not $m.revert.to) -}}
{{- fail "migration.revert.enabled needs migration.revert.to: the plan to go back to (its id; the plans after it are reverted)" -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the database URL (or the password, when composing). */}}
{{- define "strata.secretName" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else if .Values.database.passwordSecret.name -}}
{{- .Values.database.passwordSecret.name -}}
{{- else -}}
{{- printf "%s-database" (include "strata.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The environment that gives strata its DATABASE_URL, from a Secret, never a literal. */}}
{{- define "strata.databaseEnv" -}}
{{- $db := .Values.database -}}
{{- if $db.existingSecret -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $db.existingSecret | quote }}
      key: {{ $db.urlKey | quote }}
{{- else if $db.url -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "strata.secretName" . | quote }}
      key: DATABASE_URL
{{- else if $db.host -}}
- name: DATABASE_USER
  value: {{ $db.user | quote }}
- name: DATABASE_HOST
  value: {{ $db.host | quote }}
- name: DATABASE_PORT
  value: {{ $db.port | quote }}
- name: DATABASE_NAME
  value: {{ $db.name | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $db.passwordSecret.name | quote }}
      key: {{ $db.passwordSecret.key | quote }}
- name: DATABASE_URL
  value: "postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@$(DATABASE_HOST):$(DATABASE_PORT)/$(DATABASE_NAME)?sslmode={{ $db.sslMode }}"
{{- else }}
{{- fail "database: set existingSecret, url, or host with passwordSecret.name (see values.yaml)" }}
{{- end }}
{{- if $db.caCertSecret.name }}
- name: PGSSLROOTCERT
  value: /etc/strata/ca/ca.pem
{{- else }}
- name: PGSSLROOTCERT
  value: system
{{- end }}
{{- with .Values.ignoreTables }}
- name: STRATA_IGNORE_TABLES
  value: {{ join "," . | quote }}
{{- end }}
{{- end -}}

{{/* Volumes besides /tmp: the plans when they do not come with the image, the CA. */}}
{{- define "strata.plansVolume" -}}
{{- if eq .Values.plans.source "configMap" }}
- name: plans
  configMap:
    name: {{ printf "%s-plans" (include "strata.fullname" .) }}
{{- end }}
{{- with .Values.database.caCertSecret }}
{{- if .name }}
- name: ca
  secret:
    secretName: {{ .name | quote }}
    items:
      - key: {{ .key | quote }}
        path: ca.pem
{{- end }}
{{- end }}
{{- end -}}

{{- define "strata.plansMount" -}}
{{- if eq .Values.plans.source "configMap" }}
- name: plans
  mountPath: {{ .Values.plans.path }}
  readOnly: true
{{- end }}
{{- if .Values.database.caCertSecret.name }}
- name: ca
  mountPath: /etc/strata/ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* The pod-level settings shared by the Job and the Helm test. */}}
{{- define "strata.podSpec" -}}
serviceAccountName: {{ include "strata.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
