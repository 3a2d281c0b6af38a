//! The migration Job's view (issue 10): a failure recorded where it survives the pod.

use crate::project::{Project, text};

/// A failed `apply` is recorded in `strata.history` (plan, step, error, time, host), shown
/// by `status`, and summed up on one line in the termination message file.
#[tokio::test]
async fn a_failed_apply_is_recorded_in_history_status_and_the_termination_message() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE books (id int PRIMARY KEY, price numeric);",
    );
    p.plan("books");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO books VALUES (1, 5), (2, 50)").await;
    p.schema(
        "a.sql",
        "CREATE TABLE books (id int PRIMARY KEY, price numeric, CONSTRAINT cheap CHECK (price < 10));",
    );
    p.plan("cheap books");
    let id = p.head();
    let log = p.path("termination-log");
    // Without the pre-flight check, the VALIDATE step fails on the server.
    let out = p
        .command(&["apply", "--skip-preflight"])
        .env("STRATA_TERMINATION_LOG", &log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let message = std::fs::read_to_string(&log).unwrap();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("strata apply failed: plan ")
            && message.contains(&id)
            && message.contains("is violated by some row"),
        "{message}"
    );

    let row = p
        .query_one_text(
            "SELECT concat_ws('|', action, plan_id, step, applied_from <> '', error)
             FROM strata.history ORDER BY id DESC LIMIT 1",
        )
        .await;
    let fields: Vec<&str> = row.splitn(5, '|').collect();
    assert_eq!(
        &fields[..4],
        &["apply-failed", id.as_str(), "2", "t"],
        "{row}"
    );
    assert!(fields[4].contains("is violated by some row"), "{row}");

    let status = p.expect(2, &["status"]);
    assert!(
        status.contains(&format!("last run failed: apply of {id} at step 2 on "))
            && status.contains("is violated by some row"),
        "{status}"
    );
    let json = p.expect(2, &["status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["last_failure"]["step"], 2, "{json}");

    // Once a run succeeds, the failure is history, not the state.
    p.sql("UPDATE books SET price = 9 WHERE id = 2").await;
    p.expect(0, &["revert"]);
    p.expect(0, &["apply"]);
    let status = p.expect(0, &["status"]);
    assert!(!status.contains("last run failed"), "{status}");
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history WHERE action = 'apply-failed'")
            .await,
        1
    );
}
