//! The notification log on SQLite and on a real PostgreSQL: stored before
//! anything is sent, updated per attempt with the body stored once, read in
//! pages, pruned by age and row count without touching pending deliveries.

mod common;

use std::time::Duration;

use common::{fresh, postgres_base};
use serde_json::json;
use store::Db;
use store::notifications::{DeliveryState, NotificationLog, PageQuery, Retention};

async fn suite(db: Db) {
    let log = NotificationLog::new(
        db.clone(),
        Retention {
            max_age: Duration::from_secs(3600),
            max_rows: 5,
        },
    );
    let body = json!({"status": "firing", "alerts": [{"labels": {"alertname": "X"}}]});
    let a = log
        .record(
            "team",
            "webhook",
            "http://h/hook",
            &body,
            DeliveryState::Pending,
        )
        .await
        .unwrap();
    // On the database the moment `record` returns.
    let got = log.get(a.id).await.unwrap().expect("stored");
    assert_eq!(got, a);
    assert_eq!(got.body, body);
    // Each attempt counts; the body is kept once.
    log.update(a.id, DeliveryState::Pending, Some("HTTP 503"))
        .await
        .unwrap();
    log.update(a.id, DeliveryState::Sent, None).await.unwrap();
    let got = log.get(a.id).await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.attempts, got.last_error.as_deref()),
        (DeliveryState::Sent, 2, None)
    );
    let b = log
        .record(
            "team",
            "pager",
            "on-call",
            &json!({}),
            DeliveryState::Pending,
        )
        .await
        .unwrap();
    log.abandon(b.id, "not resent").await.unwrap();
    let got = log.get(b.id).await.unwrap().unwrap();
    assert_eq!(
        (got.state, got.attempts, got.last_error.as_deref()),
        (DeliveryState::Failed, 0, Some("not resent"))
    );
    assert!(log.pending().await.unwrap().is_empty());

    // Twenty more; pages of 7 walk back through all 22, oldest first in a page.
    let mut ids = vec![a.id, b.id];
    for i in 0..20 {
        let d = log
            .record("r", "log", "", &json!({ "i": i }), DeliveryState::Sent)
            .await
            .unwrap();
        ids.push(d.id);
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = log.page(PageQuery { limit: 7, before }).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        assert!(page.windows(2).all(|w| w[0].id < w[1].id));
        before = Some(page[0].id);
        let mut p: Vec<i64> = page.iter().map(|d| d.id).collect();
        p.extend(seen);
        seen = p;
    }
    assert_eq!(seen, ids);
    let newest = log.page(PageQuery::default()).await.unwrap();
    assert_eq!(newest.last().unwrap().id, *ids.last().unwrap());

    // Retention by count: 5 rows are kept, plus a pending one however old.
    let p = log
        .record(
            "team",
            "webhook",
            "http://h",
            &json!({}),
            DeliveryState::Pending,
        )
        .await
        .unwrap();
    let pruned = log.prune(chrono::Utc::now()).await.unwrap();
    assert_eq!(pruned, 18, "23 rows, 5 kept");
    assert_eq!(log.count().await.unwrap(), 5);
    // Retention by age: an hour later, only the pending delivery remains.
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    assert_eq!(log.prune(later).await.unwrap(), 4);
    let left = log.page(PageQuery::default()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, p.id);
    assert_eq!(log.pending().await.unwrap()[0].id, p.id);
    db.close().await;
}

#[tokio::test]
async fn notification_log_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    suite(Db::open(&Db::sqlite_url(dir.path())).await.unwrap()).await;
}

#[tokio::test]
async fn notification_log_on_postgres() {
    let Some(base) = postgres_base() else { return };
    let (name, url) = fresh(&base, "firedrill_n").await;
    suite(Db::open(&url).await.unwrap()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    store::db::drop_postgres(&base, &name).await;
}
