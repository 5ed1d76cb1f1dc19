//! The game on both database backends, without a lab: facts from a fixed
//! sample, so the cards are known. SQLite always; PostgreSQL when
//! `FIREDRILL_TEST_POSTGRES_URL` names a server (`.ci/run` sets it).

use std::time::Duration;

use store::{Db, Journal};
use wheel::game::{AnswerRequest, EscalateRequest, FactSource, FactsFuture, SpinRequest};
use wheel::persist::{CardFilter, CardState};
use wheel::{Facts, Wheel, WheelError};
use wire::{Principal, Role};

struct Sample;

impl FactSource for Sample {
    fn facts(&self) -> FactsFuture<'_> {
        Box::pin(async { Ok(Facts::sample()) })
    }
}

fn trainee(name: &str) -> Principal {
    Principal {
        name: name.into(),
        role: Role::Trainee,
    }
}

async fn suite(db: Db) {
    let journal = Journal::new(db);
    let w = Wheel::new(journal.clone(), Box::new(Sample)).await.unwrap();
    let alice = trainee("alice");
    let seeded = SpinRequest {
        seed: Some(u64::MAX - 5),
        ..SpinRequest::default()
    };
    let first = w.spin(&seeded, &alice).await.unwrap();
    assert_eq!(first.state, CardState::Open);
    assert_eq!(first.n, 0);
    // One open card per player.
    assert!(matches!(
        w.spin(&SpinRequest::default(), &alice).await,
        Err(WheelError::OpenCard { .. })
    ));
    // A command of alice's is recorded against her card, once per invocation.
    assert_eq!(
        w.open_card_of("alice", Some("inv-1")),
        Some((first.id, true))
    );
    assert_eq!(
        w.open_card_of("alice", Some("inv-1")),
        Some((first.id, false))
    );
    journal
        .append(
            "command.run",
            "alice",
            "alice",
            serde_json::json!({"card": first.id, "command": "firedrill status"}),
        )
        .await
        .unwrap();
    let answered = w
        .answer(
            &AnswerRequest {
                answer: first.card.truth.typed(),
                ..AnswerRequest::default()
            },
            &alice,
        )
        .await
        .unwrap();
    assert_eq!(answered.correct, Some(true));
    assert!(w.open_card_of("alice", None).is_none());
    let cmds = w.commands(&answered).await.unwrap();
    assert_eq!(cmds.len(), 1);
    assert!(matches!(
        w.answer(
            &AnswerRequest {
                answer: "x".into(),
                card: Some(first.id),
                ..AnswerRequest::default()
            },
            &alice
        )
        .await,
        Err(WheelError::Closed { .. })
    ));

    let second = w.spin(&SpinRequest::default(), &alice).await.unwrap();
    assert_eq!((second.n, second.session), (1, first.session));
    let wrong = w
        .escalate(
            &EscalateRequest {
                person: "nobody".into(),
                ..EscalateRequest::default()
            },
            &alice,
        )
        .await
        .unwrap();
    assert_eq!(
        (wrong.state, wrong.correct),
        (CardState::Escalated, Some(false))
    );
    // The same seed in a new session draws the same first card.
    let again = w
        .spin(
            &SpinRequest {
                seed: Some(u64::MAX - 5),
                new_session: true,
                ..SpinRequest::default()
            },
            &alice,
        )
        .await
        .unwrap();
    assert_ne!(again.session, first.session);
    assert_eq!(again.card, first.card, "same seed, same facts: same card");
    let right = w
        .escalate(
            &EscalateRequest {
                person: "bob".into(),
                ..EscalateRequest::default()
            },
            &alice,
        )
        .await
        .unwrap();
    assert_eq!(right.correct, Some(true), "bob is the sample's primary");

    // A trainee plays only their own cards; the instructor may force one.
    assert!(matches!(
        w.spin(
            &SpinRequest {
                player: Some("carol".into()),
                ..SpinRequest::default()
            },
            &alice
        )
        .await,
        Err(WheelError::Forbidden(_))
    ));
    let forced = w
        .spin(
            &SpinRequest {
                player: Some("carol".into()),
                template: Some("where.trace-services".into()),
                ..SpinRequest::default()
            },
            &Principal::lab_owner(),
        )
        .await
        .unwrap();
    assert_eq!(forced.card.template, "where.trace-services");

    let board = w.board(None).await.unwrap();
    assert_eq!(board.session.map(|s| s.seed), Some(u64::MAX - 5));
    let names: Vec<&str> = board.players.iter().map(|r| r.player.as_str()).collect();
    assert_eq!(names, ["alice", "carol"]);
    assert_eq!(
        (board.players[0].escalated_right, board.players[1].open),
        (1, 1)
    );
    let history = w
        .cards(&CardFilter {
            player: Some("alice".into()),
            ..CardFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(history.len(), 3);
    let kinds: Vec<String> = journal
        .list(&store::Filter {
            kind_prefix: Some("wheel.".into()),
            ..store::Filter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "wheel.spun").count(), 4);
    assert_eq!(kinds.iter().filter(|k| *k == "wheel.escalated").count(), 2);

    // Open cards survive a restart of the game.
    let w2 = Wheel::new(journal.clone(), Box::new(Sample)).await.unwrap();
    assert_eq!(w2.open_card_of("carol", None).map(|c| c.0), Some(forced.id));
}

#[tokio::test]
async fn the_game_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    suite(Db::open(&Db::sqlite_url(dir.path())).await.unwrap()).await;
}

#[tokio::test]
async fn the_game_on_postgres() {
    let Ok(base) = std::env::var("FIREDRILL_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "FIREDRILL_TEST_POSTGRES_URL is not set: .ci/run starts PostgreSQL and sets it"
        );
        eprintln!("skipping: FIREDRILL_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!(
        "firedrill_wheel{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let url = store::db::fresh_postgres(&base, &name).await.unwrap();
    suite(Db::open(&url).await.unwrap()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    store::db::drop_postgres(&base, &name).await;
}
