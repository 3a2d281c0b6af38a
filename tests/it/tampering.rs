//! A plan is what strata would plan: a step edited after planning (with `strata.sum`
//! recomputed, as an attacker would) is refused by `check` and by `apply` before anything
//! runs; so is a hazard removed, a review acknowledging what a plan does not do, a target
//! state swapped, or a plan claiming an older planner. Hand-written steps are possible, in
//! the open: marked, hazardous, acknowledged, sealed.

use strata::planfile::{PlanFile, load_dir};

use crate::project::{Project, edit_steps};

async fn with_rows() -> Project {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO t VALUES (1, 'a'), (2, 'b')").await;
    p
}

/// Rewrites a plan's head (for fields `edit_steps` does not reach), with a correct sum.
fn edit_head(p: &Project, id: &str, edit: impl FnOnce(&mut strata::planfile::PlanHead)) {
    let plans = p.path("plans");
    let chain = load_dir(&plans).unwrap();
    let (path, plan) = &chain.plans[id];
    let mut head = plan.head.clone();
    edit(&mut head);
    std::fs::write(path, PlanFile::render(&head)).unwrap();
    let chain = load_dir(&plans).unwrap();
    chain.write_sum(&chain.linear().unwrap()).unwrap();
}

#[tokio::test]
async fn a_step_edited_after_planning_is_refused_before_anything_runs() {
    let p = with_rows().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, extra int);",
    );
    p.plan("extra");
    let id = p.head();
    edit_steps(&p.path("plans"), &id, |steps| {
        steps[0].sql.push_str("\nTRUNCATE public.t;");
    });
    let check = p.expect(2, &["check"]);
    assert!(
        check.contains(&format!("plan {id} is not what strata plans for it"))
            && check.contains("TRUNCATE public.t;"),
        "{check}"
    );
    let before = p.fingerprint().await;
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("is not what strata plans for it"), "{out}");
    assert_eq!(p.fingerprint().await, before);
    assert_eq!(p.query_one_i64("SELECT count(*) FROM t").await, 2);
}

#[tokio::test]
async fn hazards_are_what_strata_finds_and_reviews_acknowledge_only_those() {
    let p = with_rows().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    p.plan("drop note");
    let id = p.head();
    // The data-loss hazard removed (so that no review is needed): refused.
    edit_steps(&p.path("plans"), &id, |steps| steps[0].hazards.clear());
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("its hazards are [] where strata finds [data-loss, irreversible]"),
        "{out}"
    );
    assert_eq!(p.query_one_i64("SELECT count(note) FROM t").await, 2);

    // A review acknowledging a hazard the plan does not have.
    let q = with_rows().await;
    q.schema("b.sql", "CREATE TABLE u (id int);");
    q.plan("u");
    q.acknowledge(&q.head(), &["data-loss"]);
    let check = q.expect(2, &["check"]);
    assert!(
        check.contains("acknowledges data-loss, which no step of the plan has"),
        "{check}"
    );
    let out = q.expect(2, &["apply"]);
    assert!(out.contains("which no step of the plan has"), "{out}");
}

#[tokio::test]
async fn a_swapped_target_state_or_an_older_planner_is_refused() {
    let p = with_rows().await;
    p.schema("b.sql", "CREATE TABLE u (id int);");
    p.plan("u");
    let id = p.head();
    let first = p.plan_ids()[0].clone();
    // The first plan's target state in the second plan: fingerprints disagree.
    let first_state = load_dir(&p.path("plans")).unwrap().plans[&first]
        .1
        .head
        .target
        .clone();
    edit_head(&p, &id, |head| head.target = first_state);
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("its recorded target state is not the state"),
        "{out}"
    );
    // Claiming an older planner (to be held to a looser standard).
    let q = with_rows().await;
    q.schema("b.sql", "CREATE TABLE u (id int);");
    q.plan("u");
    let id = q.head();
    edit_head(&q, &id, |head| {
        head.format = 1;
        head.planner = 0;
        head.target = None;
    });
    for args in [&["check"][..], &["apply"]] {
        let out = q.expect(2, args);
        assert!(
            out.contains("claims an older planner or format"),
            "{args:?}: {out}"
        );
    }
}

#[tokio::test]
async fn a_hand_written_step_runs_when_marked_sealed_and_acknowledged() {
    let p = with_rows().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, score int);",
    );
    p.plan("score");
    let id = p.head();
    // Written into the plan by hand, without marking it: refused like any edit.
    let path = p.path("plans").join(format!("{id}.toml"));
    let original = std::fs::read_to_string(&path).unwrap();
    let backfill = "\n[[step]]\nsummary = \"backfill score\"\nhazards = [\"custom-sql\"]\ntransactional = true\nlock_timeout = \"5s\"\nstatement_timeout = \"0\"\nsql = \"UPDATE public.t SET score = length(note);\"\n";
    let at = original.find("\n[[revert]]").unwrap();
    let unmarked = format!("{}{}{}", &original[..at], backfill, &original[at..]);
    std::fs::write(&path, &unmarked).unwrap();
    let out = p.expect(2, &["seal", &id]);
    assert!(
        out.contains("carries custom-sql but is not marked custom"),
        "{out}"
    );
    // Marked: seal records it.
    let marked = unmarked.replace(
        "sql = \"UPDATE public.t",
        "custom = true\nsql = \"UPDATE public.t",
    );
    // Run on its own without saying it is safe to run twice: refused, since a rerun after
    // an interruption may run it again.
    let lone = marked.replace(
        "summary = \"backfill score\"\nhazards = [\"custom-sql\"]\ntransactional = true",
        "summary = \"backfill score\"\nhazards = [\"custom-sql\"]\ntransactional = false",
    );
    assert_ne!(lone, marked);
    std::fs::write(&path, &lone).unwrap();
    let out = p.expect(2, &["seal", &id]);
    assert!(
        out.contains("does not say it is safe to run twice"),
        "{out}"
    );
    std::fs::write(&path, &marked).unwrap();
    let out = p.expect(0, &["seal", &id]);
    assert!(
        out.contains("sealed") && out.contains("1 custom step"),
        "{out}"
    );
    let check = p.expect(2, &["check"]);
    assert!(
        check.contains("hazards not acknowledged in its [review] table: custom-sql"),
        "{check}"
    );
    p.acknowledge(&id, &["custom-sql"]);
    p.expect(0, &["check"]);
    p.expect(0, &["apply"]);
    assert_eq!(
        p.query_one_i64("SELECT sum(score) FROM t").await,
        2,
        "the custom step ran"
    );
}

#[tokio::test]
async fn a_job_with_a_verifying_key_applies_only_a_chain_ci_signed() {
    let p = with_rows().await;
    let key = p.path("signing.key");
    let out = p.expect(0, &["keygen", "--out", key.to_str().unwrap()]);
    let public = out.lines().last().unwrap().trim().to_owned();
    let private = std::fs::read_to_string(&key).unwrap();
    assert!(!out.contains(private.trim()), "the private key was printed");
    p.schema("b.sql", "CREATE TABLE u (id int);");
    p.plan("u");
    let verifying = |args: &[&str]| {
        let mut cmd = p.command(args);
        cmd.env("STRATA_VERIFY_KEY", &public);
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                crate::project::text(&out.stdout),
                crate::project::text(&out.stderr)
            ),
        )
    };
    // Not signed yet: refused.
    let before = p.fingerprint().await;
    let (code, out) = verifying(&["apply"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("these plans were not signed"), "{out}");
    assert_eq!(p.fingerprint().await, before);
    // Signed by CI: applied.
    p.expect(0, &["sign", "--key-file", key.to_str().unwrap()]);
    let (code, out) = verifying(&["apply"]);
    assert_eq!(code, Some(0), "{out}");
    // A plan added after signing (with a correct sum): refused.
    p.schema("c.sql", "CREATE TABLE v (id int);");
    p.plan("v");
    let before = p.fingerprint().await;
    let (code, out) = verifying(&["apply"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("was made for another plan chain"), "{out}");
    assert_eq!(p.fingerprint().await, before);
    // Signed with another key: refused.
    let other = p.path("other.key");
    p.expect(0, &["keygen", "--out", other.to_str().unwrap()]);
    p.expect(0, &["sign", "--key-file", other.to_str().unwrap()]);
    let (code, out) = verifying(&["apply"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("does not verify with the configured public key"),
        "{out}"
    );
    let (code, out) = verifying(&["check"]);
    assert_eq!(code, Some(2), "{out}");
}

#[tokio::test]
async fn recorded_dependencies_are_the_planners_even_around_hand_written_steps() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text);\nCREATE INDEX t_note_idx ON t (note);",
    );
    p.plan("t");
    let id = p.head();
    let plans = p.path("plans");
    let steps = load_dir(&plans).unwrap().plans[&id].1.head.steps.clone();
    let index = steps
        .iter()
        .position(|s| s.summary.starts_with("create index"))
        .unwrap();
    let after = steps[index].after.clone();
    assert!(!after.is_empty(), "the index step records no dependency");
    // A dependency edited away changes the diagram: refused like any edit.
    edit_steps(&plans, &id, |steps| steps[index].after.clear());
    let out = p.expect(2, &["check"]);
    assert!(
        out.contains("says it runs after [] where strata finds"),
        "{out}"
    );
    // Restored, with a step written by hand in front: the numbers count planned steps
    // only, so they still hold, and the diagram draws them where the steps now stand.
    edit_steps(&plans, &id, |steps| {
        steps[index].after = after.clone();
        steps.insert(0, crate::project::sleep_step(0, true));
    });
    p.expect(0, &["check"]);
    let show = p.expect(0, &["show", "--format", "markdown"]);
    assert!(
        show.contains(&format!("  s{} --> s{}", after[0], index + 1)),
        "{show}"
    );
    assert!(show.contains("  s0 -.-> s1"), "{show}");
    // A hand-written step may not claim the planner's dependencies.
    edit_steps(&plans, &id, |steps| steps[0].after = vec![1]);
    let out = p.expect(2, &["check"]);
    assert!(out.contains("only the planner's dependencies"), "{out}");
}

/// Rewrites plan `id` as an older planner wrote it, and the sum with it.
fn as_planner(
    plans: &std::path::Path,
    id: &str,
    edit: impl FnOnce(&mut strata::planfile::PlanHead),
) {
    let chain = load_dir(plans).unwrap();
    let (path, plan) = &chain.plans[id];
    let mut head = plan.head.clone();
    edit(&mut head);
    std::fs::write(path, PlanFile::render(&head)).unwrap();
    let chain = load_dir(plans).unwrap();
    chain.write_sum(&chain.linear().unwrap()).unwrap();
}

#[tokio::test]
async fn plans_of_planner_2_still_verify_where_the_hazard_rules_differ() {
    use strata::plan::Hazard;
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE DOMAIN code AS text;\nCREATE TABLE t (id int PRIMARY KEY, c code);",
    );
    p.plan("t");
    p.expect(0, &["apply"]);
    p.schema(
        "a.sql",
        "CREATE DOMAIN code AS text CONSTRAINT code_short CHECK (length(VALUE) < 10);\n\
         CREATE TABLE t (id int PRIMARY KEY, c code);",
    );
    p.plan("short codes");
    let id = p.head();
    let plans = p.path("plans");
    let head = load_dir(&plans).unwrap().plans[&id].1.head.clone();
    let validate = head
        .steps
        .iter()
        .position(|s| s.summary.starts_with("validate a check of domain"))
        .unwrap_or_else(|| panic!("{:#?}", head.steps));
    // Planner 3 finds what PostgreSQL does: SHARE on t while every value is checked.
    assert_eq!(head.steps[validate].lock, Some(strata::plan::Lock::Share));
    assert!(head.steps[validate].hazards.contains(&Hazard::BlockingLock));
    assert!(head.steps[validate].rerunnable);
    // The chain as planner 2 wrote it: no lock, no rerunnable, no blocking-lock there.
    let planner_2 = |head: &mut strata::planfile::PlanHead| {
        head.planner = 2;
        for step in head.steps.iter_mut().chain(head.revert.iter_mut()) {
            step.lock = None;
            step.rerunnable = false;
            step.after.clear();
        }
    };
    let first = head.parent.clone().unwrap();
    as_planner(&plans, &first, planner_2);
    as_planner(&plans, &id, |head| {
        planner_2(head);
        head.steps[validate]
            .hazards
            .retain(|h| *h != Hazard::BlockingLock);
    });
    p.expect(0, &["check"]);
    // A planner-2 plan that records a lock claims what its planner never wrote.
    as_planner(&plans, &id, |head| {
        head.steps[validate].lock = Some(strata::plan::Lock::AccessShare);
    });
    let out = p.expect(2, &["check"]);
    assert!(out.contains("which its planner (2) never wrote"), "{out}");
    // Back on planner 3, a lock edited down is refused, naming it.
    as_planner(&plans, &id, |edited| {
        *edited = head.clone();
        edited.steps[validate].lock = Some(strata::plan::Lock::AccessShare);
    });
    let out = p.expect(2, &["check"]);
    assert!(out.contains("it says it locks ACCESS SHARE"), "{out}");
}
