//! The warm path (`strata::cache`): a catalog served from the cache is the cold one,
//! exactly, and serving it starts no server; an edit is never served stale.

use strata::cache::{Cache, Key};
use strata::db::shadow::{DevServer, desired_catalog};
use strata::model::Catalog;
use strata::source::{Schema, SourceFile};

use crate::harness::repo_root;

/// `catalog` written to a cache entry and read back, checked to be the same catalog
/// (stored form, fingerprint, server, casts).
pub fn through_cache(catalog: &Catalog) -> Catalog {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let mut key = Key::new("test");
    key.part("fingerprint", catalog.model.fingerprint().as_bytes());
    cache.put(&key, catalog, &["note".to_owned()]);
    let (warm, notes) = cache
        .get(&key)
        .unwrap_or_else(|| panic!("the entry just written is not read back"));
    assert_eq!(notes, vec!["note".to_owned()]);
    assert_eq!(warm.model.fingerprint(), catalog.model.fingerprint());
    assert_eq!(warm.to_stored(), catalog.to_stored());
    assert_eq!(warm.deps, catalog.deps);
    assert_eq!(warm.casts, catalog.casts);
    assert_eq!(warm.server_version, catalog.server_version);
    warm
}

fn sovd_schema(edit: Option<(&str, &str, &str)>) -> Schema {
    let dir = repo_root().join("schema");
    let mut files: Vec<SourceFile> = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    for name in names {
        let mut text = std::fs::read_to_string(dir.join(&name)).unwrap();
        if let Some((file, from, to)) = edit
            && file == name
        {
            assert!(text.contains(from), "{name} has no {from:?}");
            text = text.replacen(from, to, 1);
        }
        files.push(SourceFile::new(format!("schema/{name}"), text));
    }
    Schema::from_files(files).unwrap()
}

async fn cached_server(cache: &Cache) -> DevServer {
    DevServer::start(None, Default::default())
        .await
        .unwrap()
        .with_cache(Some(cache.clone()))
}

#[tokio::test]
async fn warm_desired_and_head_states_are_the_cold_ones_and_start_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path().join("cache"));
    let schema = sovd_schema(None);
    // A chain of this server's major (the repository's plans are PostgreSQL 15's): the
    // plan of the SOVD schema from an empty database.
    let plain = crate::harness::dev_server().await;
    let empty = strata::db::shadow::empty_catalog(&plain).await.unwrap();
    let sovd = desired_catalog(&plain, &schema).await.unwrap();
    let plan = strata::plan::plan(&empty, &sovd).unwrap();
    let head = strata::planfile::PlanHead::planned(
        "20261129000000_sovd".to_owned(),
        None,
        "sovd".to_owned(),
        &empty,
        &sovd,
        &plan,
        &strata::planfile::StepTimeouts::default(),
        false,
    );
    let file =
        strata::planfile::PlanFile::parse(&strata::planfile::PlanFile::render(&head)).unwrap();
    let order = vec![&file];

    // Cold: the first command loads and replays, on a server it starts.
    let first = cached_server(&cache).await;
    let cold = desired_catalog(&first, &schema).await.unwrap();
    let (cold_head, cold_notes) = strata::workflow::head_state(&first, &schema, &order)
        .await
        .unwrap();
    assert!(first.is_started());
    drop(first);

    // Warm: the same inputs, served from the cache without a server.
    let second = cached_server(&cache).await;
    let warm = desired_catalog(&second, &schema).await.unwrap();
    let (warm_head, warm_notes) = strata::workflow::head_state(&second, &schema, &order)
        .await
        .unwrap();
    assert!(
        !second.is_started(),
        "a command whose inputs are cached started a server"
    );
    assert_eq!(warm.to_stored(), cold.to_stored());
    assert_eq!(warm.model.fingerprint(), cold.model.fingerprint());
    assert_eq!(warm_head.to_stored(), cold_head.to_stored());
    assert_eq!(warm_notes, cold_notes);
    // The SOVD head is its schema: nothing to plan, warm or cold.
    assert!(strata::plan::plan(&warm_head, &warm).unwrap().is_empty());

    // An edit is a new key: loaded again, and equal to a read without any cache.
    let edited = sovd_schema(Some((
        "20_vehicles.sql",
        "CREATE TABLE vehicles (",
        "CREATE TABLE vehicles (\n    nickname text,",
    )));
    let after_edit = desired_catalog(&second, &edited).await.unwrap();
    assert!(
        second.is_started(),
        "an edited schema was served from the cache"
    );
    let uncached = desired_catalog(&crate::harness::dev_server().await, &edited)
        .await
        .unwrap();
    assert_eq!(after_edit.to_stored(), uncached.to_stored());
    assert_ne!(after_edit.model.fingerprint(), cold.model.fingerprint());
    let plan = strata::plan::plan(&warm_head, &after_edit).unwrap();
    assert!(
        plan.to_sql().contains("nickname"),
        "the edit is not planned:\n{}",
        plan.to_sql()
    );

    // A new plan file (another checksum) is a new key for the head too.
    let third = cached_server(&cache).await;
    let shorter = &order[..order.len() - 1];
    let (older_head, _) = strata::workflow::head_state(&third, &schema, shorter)
        .await
        .unwrap();
    assert!(third.is_started());
    assert_ne!(
        older_head.model.fingerprint(),
        cold_head.model.fingerprint()
    );
}

#[tokio::test]
async fn a_damaged_or_foreign_entry_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    let schema = sovd_schema(None);
    let first = cached_server(&cache).await;
    let cold = desired_catalog(&first, &schema).await.unwrap();
    drop(first);
    // The desired entry is written on a thread of its own.
    strata::cache::settle();
    // Every entry truncated: the next command loads again and gets the cold result.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        // (Not the initdb template, a folder.)
        if path.is_dir() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    }
    let second = cached_server(&cache).await;
    let again = desired_catalog(&second, &schema).await.unwrap();
    assert!(second.is_started());
    assert_eq!(again.to_stored(), cold.to_stored());
    // A --dev-url server never uses the cache (its state is in no key).
    let external = DevServer::start(
        Some(crate::harness::cluster().await.url("postgres")),
        strata::db::shadow::ShadowOptions {
            create_roles: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .with_cache(Some(cache.clone()));
    strata::cache::settle();
    let entries = std::fs::read_dir(dir.path()).unwrap().count();
    desired_catalog(
        &external,
        &sovd_schema(Some((
            "20_vehicles.sql",
            "CREATE TABLE vehicles (",
            "CREATE TABLE vehicles (\n    colour text,",
        ))),
    )
    .await
    .unwrap();
    strata::cache::settle();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), entries);
}

#[tokio::test]
async fn a_renamed_state_is_built_once_then_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path().join("cache"));
    let before = crate::harness::schema_from_sql(
        "a.sql",
        "CREATE TABLE people (id int PRIMARY KEY, mail text);\n\
         CREATE VIEW mails AS SELECT mail FROM people;",
    );
    let after = crate::harness::schema_from_sql(
        "a.sql",
        "-- strata:renamed-from people\n\
         CREATE TABLE persons (id int PRIMARY KEY, mail text);\n\
         CREATE VIEW mails AS SELECT mail FROM persons;",
    );
    let plain = crate::harness::dev_server().await;
    let from = desired_catalog(&plain, &before).await.unwrap();
    let desired = desired_catalog(&plain, &after).await.unwrap();

    let first = cached_server(&cache).await;
    let cold = strata::workflow::renaming(&first, &after, &from, &desired)
        .await
        .unwrap()
        .unwrap();
    assert!(first.is_started());
    drop(first);
    let second = cached_server(&cache).await;
    let warm = strata::workflow::renaming(&second, &after, &from, &desired)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !second.is_started(),
        "a renamed state already built started a server"
    );
    assert_eq!(warm.renames, cold.renames);
    assert_eq!(warm.catalog.to_stored(), cold.catalog.to_stored());
    // What PostgreSQL made of the rename: the view now reads the renamed table.
    let persons = strata::sql::QualName::new("public", "persons");
    assert!(warm.catalog.model.tables.contains_key(&persons));
    let view = &warm.catalog.model.views[&strata::sql::QualName::new("public", "mails")];
    assert!(view.definition.contains("persons"), "{}", view.definition);
    // Another rename of the same state is another entry.
    let other = crate::harness::schema_from_sql(
        "a.sql",
        "-- strata:renamed-from people\n\
         CREATE TABLE humans (id int PRIMARY KEY, mail text);\n\
         CREATE VIEW mails AS SELECT mail FROM humans;",
    );
    let other_desired = desired_catalog(&plain, &other).await.unwrap();
    let third = cached_server(&cache).await;
    strata::workflow::renaming(&third, &other, &from, &other_desired)
        .await
        .unwrap()
        .unwrap();
    assert!(
        third.is_started(),
        "another rename was served from the cache"
    );
}

#[tokio::test]
async fn clusters_copied_from_the_initdb_template_each_have_their_own_password() {
    use strata::db::embedded::{Cluster, ClusterOptions};
    let dir = tempfile::tempdir().unwrap();
    let options = || ClusterOptions {
        template_cache: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let template = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("initdb-")
            })
            .collect()
    };
    // The first cluster runs initdb and keeps its data folder as the template.
    let first = Cluster::start_with(options()).await.unwrap();
    let kept = template();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].join("data/global/pg_control").is_file());
    // (A mark that stays while this template does: a template made again has none.)
    let mark = kept[0].join("mark");
    std::fs::write(&mark, "").unwrap();
    // The second is copied from it, and has a password of its own: the first one's (whose
    // verifier the template holds) does not open it.
    let second = Cluster::start_with(options()).await.unwrap();
    assert!(mark.exists(), "the template was not used");
    assert_ne!(first.password(), second.password());
    second.url("postgres").connect().await.unwrap();
    let mut config: tokio_postgres::Config = second.connection_string("postgres").parse().unwrap();
    config.password(first.password());
    let refused = config.connect(tokio_postgres::NoTls).await;
    assert!(refused.is_err(), "the template's password opened a copy");
    drop((first, second));
    // A damaged template is deleted, initdb runs, and its folder is the new template.
    std::fs::remove_file(kept[0].join("data/global/pg_control")).unwrap();
    let third = Cluster::start_with(options()).await.unwrap();
    third.url("postgres").connect().await.unwrap();
    let kept = template();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].join("data/global/pg_control").is_file());
    assert!(
        !kept[0].join("mark").exists(),
        "the damaged template was kept"
    );
}
