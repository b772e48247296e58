//! Backup and restore, under load: `filiere backup` while technicians register and
//! erase devices, then `filiere restore` into a new database. The backup holds every
//! step acknowledged before it began, each item's version matches its events (nothing
//! half-written), and a backup taken once the load stops restores to the same rows in
//! every table.

use filiere_server::backup;
use filiere_tests::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Items whose version is not the number of their events (or not their last event's
/// version).
fn torn_items(url: &str) -> i64 {
    let mut conn = filiere_server::db::connect(url).expect("connect");
    TestApp::number(
        &mut conn,
        "SELECT COUNT(*) AS n FROM items i WHERE i.version <> \
         (SELECT COUNT(*) FROM item_events e WHERE e.item_id = i.id) \
         OR i.version <> (SELECT MAX(e.version) FROM item_events e WHERE e.item_id = i.id)",
    )
}

fn items_with_versions(url: &str) -> Vec<(i64, i64)> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        version: i64,
    }
    let mut conn = filiere_server::db::connect(url).expect("connect");
    diesel::sql_query("SELECT id, version FROM items")
        .load::<Row>(&mut conn)
        .expect("items")
        .into_iter()
        .map(|r| (r.id, r.version))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_whole() {
    let app = Arc::new(TestApp::spawn().await);
    let w = app.world().await;
    let dir = std::env::temp_dir().join("filiere-tests");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join(format!("backup-{}-{}", std::process::id(), rand_suffix()));

    // Four technicians' sessions register laptops and erase their drive, logging each
    // acknowledged step (item, version) with when it was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let started = std::time::Instant::now();
    let mut clients = Vec::new();
    for c in 0..4 {
        let (app, stop) = (app.clone(), stop.clone());
        let token = app.login("tech_a1").await;
        let site = w.site_a1;
        clients.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let code = app.codes(&token, site, 1).await.remove(0);
                let serial = format!("BK{c}-{n}");
                let item = app.laptop(&token, &code, &serial).await;
                acked.push((item.id.0, item.version, started.elapsed()));
                let r = app
                    .step_ok(&token, &item, &format!("erase-{c}-{n}"), erase(&serial))
                    .await;
                acked.push((r.item.id.0, r.item.version, started.elapsed()));
                n += 1;
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let backup_began = started.elapsed();
    let (url, dest) = (app.url.clone(), file.clone());
    let summary = tokio::task::spawn_blocking(move || backup::backup(&url, &dest))
        .await
        .expect("join")
        .expect("backup under load");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for c in clients {
        acked.extend(c.await.expect("client"));
    }
    assert!(summary.rows() > 0 && summary.bytes > 0);
    assert!(
        acked.iter().any(|(_, _, t)| *t > backup_began),
        "the load went on during the backup"
    );

    // The backup restored into a new database: nothing torn, and everything
    // acknowledged before the backup began is there, at least at that version.
    let restored = new_database(&app);
    let (url, src) = (restored.clone(), file.clone());
    tokio::task::spawn_blocking(move || backup::restore(&url, &src))
        .await
        .expect("join")
        .expect("restore");
    assert_eq!(
        torn_items(&restored),
        0,
        "an item's version and its events differ"
    );
    let versions: std::collections::HashMap<i64, i64> =
        items_with_versions(&restored).into_iter().collect();
    let before: Vec<_> = acked.iter().filter(|(_, _, t)| *t < backup_began).collect();
    assert!(
        before.len() >= 4,
        "steps acknowledged before the backup: {}",
        before.len()
    );
    for (item, version, _) in &before {
        let got = versions.get(item).copied().unwrap_or(0);
        assert!(
            got >= *version,
            "item {item}: acknowledged at version {version}, backup has {got}"
        );
    }
    if app.backend == filiere_server::db::Backend::Sqlite {
        // The SQLite backup is itself a database: restored, the same rows.
        assert_eq!(
            table_digests(&format!("sqlite://{}", file.display())),
            table_digests(&restored)
        );
    }
    drop_database(&restored);
    let _ = std::fs::remove_file(&file);

    // Once the load has stopped and the server with it (its sweeps fold the
    // dashboards' counters at any moment): a backup restores to exactly the same rows,
    // in every table, and the restored database serves.
    let mut app = Arc::into_inner(app).expect("the clients are done");
    app.stop();
    let quiet = dir.join(format!("backup-{}-{}", std::process::id(), rand_suffix()));
    let live = table_digests(&app.url);
    backup::backup(&app.url, &quiet).expect("backup");
    let again = backup::backup(&app.url, &quiet);
    assert!(
        matches!(again, Err(backup::BackupError::Exists(_))),
        "never over a file"
    );
    let restored = new_database(&app);
    let summary = backup::restore(&restored, &quiet).expect("restore");
    assert_eq!(table_digests(&restored), live);
    assert_eq!(
        summary.tables,
        live.iter()
            .map(|(t, n, _)| (t.clone(), *n as i64))
            .collect::<Vec<_>>()
    );
    let served = TestApp::spawn_kept(&restored).await;
    let token = served.login("tech_a1").await;
    let (item, version, _) = acked.last().expect("a step");
    let got: filiere_shared::api::ItemView = served
        .get_ok(&format!("/api/v1/items/{item}"), &token)
        .await;
    assert_eq!(got.version, *version);
    drop(served);
    drop_database(&restored);
    let _ = std::fs::remove_file(&quiet);

    // A file that is no backup is refused, and the database is left as it was.
    let junk = dir.join(format!("junk-{}", rand_suffix()));
    std::fs::write(&junk, b"not a database").expect("write");
    let target = new_database(&app);
    if app.backend == filiere_server::db::Backend::Sqlite {
        let before = std::fs::read(target.trim_start_matches("sqlite://")).ok();
        let refused = backup::restore(&target, &junk);
        assert!(
            matches!(refused, Err(backup::BackupError::NotABackup(..))),
            "{refused:?}"
        );
        assert_eq!(
            std::fs::read(target.trim_start_matches("sqlite://")).ok(),
            before
        );
    } else {
        let refused = backup::restore(&target, &junk);
        assert!(
            matches!(refused, Err(backup::BackupError::ToolFailed { .. })),
            "{refused:?}"
        );
    }
    let missing = backup::restore(&target, &dir.join("no-such-backup"));
    assert!(matches!(missing, Err(backup::BackupError::Missing(_))));
    drop_database(&target);
    let _ = std::fs::remove_file(&junk);
}

fn rand_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_list_is_every_table_of_the_migrated_database() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let app = TestApp::spawn().await;
    let sql = match app.backend {
        filiere_server::db::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        filiere_server::db::Backend::Postgres => {
            "SELECT CAST(tablename AS text) AS name FROM pg_tables WHERE schemaname = 'public'"
        }
    };
    let mut found: Vec<String> = diesel::sql_query(sql)
        .load::<Name>(&mut app.conn())
        .expect("tables")
        .into_iter()
        .map(|n| n.name)
        .filter(|n| n != "__diesel_schema_migrations")
        .collect();
    found.sort();
    let mut listed: Vec<String> = filiere_server::db::TABLES
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    listed.sort();
    assert_eq!(
        listed, found,
        "db::TABLES must name every table, and only those"
    );
}
