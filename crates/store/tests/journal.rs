//! The store's suite, run against SQLite and against a real PostgreSQL
//! (`FIREDRILL_TEST_POSTGRES_URL`, a role allowed to create databases;
//! `.ci/run` starts Debian's postgresql and sets it).

use std::time::Duration;

mod common;

use common::{fresh, postgres_base};
use store::{Db, Filter, Journal};

async fn suite(db: Db) {
    let j = Journal::new(db.clone());
    let mut live = j.subscribe();
    let a = j
        .append(
            "instance.crashed",
            "supervisor",
            "cart/0",
            serde_json::json!({"code": 137}),
        )
        .await
        .unwrap();
    let b = j
        .append(
            "deploy.started",
            "cli",
            "productcatalog",
            serde_json::json!({"version": "v2"}),
        )
        .await
        .unwrap();
    let c = j
        .append(
            "instance.restarted",
            "supervisor",
            "cart/0",
            serde_json::json!({}),
        )
        .await
        .unwrap();
    assert!(a.id < b.id && b.id < c.id, "ids increase");
    // Followed live, in order.
    assert_eq!(live.recv().await.unwrap().id, a.id);
    assert_eq!(live.recv().await.unwrap().kind, "deploy.started");

    let all = j.list(&Filter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![a.id, b.id, c.id]
    );
    assert_eq!(all[0].attributes["code"], 137);
    let inst = j
        .list(&Filter {
            kind_prefix: Some("instance.".into()),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(inst.len(), 2);
    // `_` and `%` in a prefix are literal.
    let none = j
        .list(&Filter {
            kind_prefix: Some("instance_".into()),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    let cart = j
        .list(&Filter {
            subject: Some("cart/0".into()),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(cart.len(), 2);
    let after = j
        .list(&Filter {
            after_id: Some(a.id),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
    let last = j
        .list(&Filter {
            limit: Some(1),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(last[0].id, c.id, "limit keeps the newest");
    let future = j
        .list(&Filter {
            since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert!(future.is_empty());
    let past = j
        .list(&Filter {
            until: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
            ..Filter::default()
        })
        .await
        .unwrap();
    assert!(past.is_empty());

    // Concurrent appends: none lost, ids unique.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let j = j.clone();
        tasks.push(tokio::spawn(async move {
            j.append("load.set", "api", "loadgen", serde_json::json!({"i": i}))
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    assert_eq!(j.list(&Filter::default()).await.unwrap().len(), 53);
    hidden_kinds(&j).await;
    tokens(db.clone()).await;
    db.close().await;
}

/// Named tokens: stored hashed, resolved to their role, revoked for good.
/// A non-instructor's read leaves out hidden families and hidden kinds
/// (a drill's fault, remedies, objectives), and keeps a drill's course.
async fn hidden_kinds(j: &Journal) {
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    for kind in [
        "fault.injected",
        "drill.started",
        "drill.fault_started",
        "drill.objective_met",
        "drill.wrong_op",
        "drill.ended",
    ] {
        j.append(kind, "drill", "1", serde_json::json!({}))
            .await
            .unwrap();
    }
    let kinds = |without_hidden| async move {
        j.list(&Filter {
            since: Some(since),
            without_hidden,
            ..Filter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k.starts_with("drill.") || k.starts_with("fault."))
        .collect::<Vec<_>>()
    };
    assert_eq!(kinds(true).await, ["drill.started", "drill.ended"]);
    assert_eq!(kinds(false).await.len(), 6);
}

async fn tokens(db: Db) {
    use wire::Role;
    let t = store::Tokens::new(db.clone(), "owner-secret");
    let owner = t.principal("owner-secret").await.unwrap().unwrap();
    assert_eq!(owner.role, Role::Instructor);
    let secret = t.create("alice", Role::Trainee).await.unwrap();
    let p = t.principal(&secret).await.unwrap().unwrap();
    assert_eq!((p.name.as_str(), p.role), ("alice", Role::Trainee));
    // The secret itself is nowhere in the database.
    let stored: Vec<String> = sqlx::query_scalar("SELECT hash FROM tokens")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(stored.iter().all(|h| !h.contains(&secret) && h.len() == 64));
    // One active token per name; a bad name is refused with the rule.
    let dup = t
        .create("alice", Role::Viewer)
        .await
        .unwrap_err()
        .to_string();
    assert!(dup.contains("exists"), "{dup}");
    let bad = t
        .create("al ice", Role::Viewer)
        .await
        .unwrap_err()
        .to_string();
    assert!(bad.contains("letters, digits"), "{bad}");
    assert!(t.principal("wrong").await.unwrap().is_none());
    assert!(t.revoke("alice").await.unwrap());
    assert!(!t.revoke("alice").await.unwrap());
    assert!(t.principal(&secret).await.unwrap().is_none());
    // After revoking, the name can be given again.
    let again = t.create("alice", Role::Viewer).await.unwrap();
    assert_eq!(
        t.principal(&again).await.unwrap().unwrap().role,
        Role::Viewer
    );
    let list = t.list().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list[0].revoked.is_some() && list[1].revoked.is_none());
}

#[tokio::test]
async fn journal_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = Db::sqlite_url(dir.path());
    suite(Db::open(&url).await.unwrap()).await;
    // Reopening keeps everything and re-applies no migration.
    let db = Db::open(&url).await.unwrap();
    assert_eq!(
        Journal::new(db)
            .list(&Filter::default())
            .await
            .unwrap()
            .len(),
        59,
        "53 + 6 of the hidden-kinds check"
    );
}

#[tokio::test]
async fn journal_on_postgres() {
    let Some(base) = postgres_base() else { return };
    // A fresh database per run.
    let (name, url) = fresh(&base, "firedrill_t").await;
    suite(Db::open(&url).await.unwrap()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    store::db::drop_postgres(&base, &name).await;
}

#[tokio::test]
async fn bad_urls_say_what_is_wrong() {
    let e = Db::open("mysql://x").await.unwrap_err().to_string();
    assert!(e.contains("unsupported database URL"), "{e}");
    let e = Db::open("postgres://nobody:secret@127.0.0.1:1/db")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot connect") && !e.contains("secret"), "{e}");
}

/// Labs starting at once on one fresh PostgreSQL database: every one opens
/// it, the migrations run once (an advisory lock serializes them).
#[tokio::test]
async fn concurrent_opens_on_postgres_migrate_once() {
    let Some(base) = postgres_base() else { return };
    let (name, url) = fresh(&base, "firedrill_c").await;
    let opens = (0..6).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { Db::open(&url).await })
    });
    let dbs: Vec<Db> = futures_util::future::join_all(opens)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("every concurrent open succeeds"))
        .collect();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&dbs[0].pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, store::migrate::MIGRATIONS.len());
    for db in dbs {
        db.close().await;
    }
    store::db::drop_postgres(&base, &name).await;
}
