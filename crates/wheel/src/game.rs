//! The game: spin, answer, escalate, the board, a card's path. Sessions
//! and cards live in the database ([`crate::persist`]); every change is
//! journaled (`wheel.spun`, `wheel.answered`, `wheel.escalated`) before
//! the call returns. A player has at most one open card; who has one is
//! also kept in memory for the `command.run` recorder.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Mutex;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{Db, Journal};
use wire::Principal;

use crate::WheelError;
use crate::answer::normalise;
use crate::card::{self, Category};
use crate::facts::Facts;
use crate::persist::{self, CardFilter, CardRow, CardState, Session};

pub type FactsFuture<'a> = Pin<Box<dyn Future<Output = Result<Facts, WheelError>> + Send + 'a>>;

/// Where a spin reads the lab's truth from.
pub trait FactSource: Send + Sync {
    fn facts(&self) -> FactsFuture<'_>;
}

/// The control plane's own read APIs over loopback, with the instructor's
/// token (requests marked internal, so the recorder leaves them out).
pub struct LabFacts {
    client: wire::Client,
    data_dir: PathBuf,
}

impl LabFacts {
    pub fn new(url: &str, token: &str, data_dir: PathBuf) -> LabFacts {
        LabFacts {
            client: wire::Client::with_timeout(
                url,
                Some(token.to_string()),
                std::time::Duration::from_secs(15),
            )
            .with_header(crate::record::INTERNAL, "wheel"),
            data_dir,
        }
    }
}

impl FactSource for LabFacts {
    fn facts(&self) -> FactsFuture<'_> {
        Box::pin(crate::facts::gather::gather(&self.client, &self.data_dir))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpinRequest {
    /// Who plays the card; the caller's own name when not given.
    pub player: Option<String>,
    /// Starts a new session with this seed unless the current one has it.
    pub seed: Option<u64>,
    pub category: Option<String>,
    /// Forces one template (instructors only: tests, demonstrations).
    pub template: Option<String>,
    #[serde(default)]
    pub new_session: bool,
}

/// Which card: by id, else the player's open card.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
    pub player: Option<String>,
    pub card: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    pub person: String,
    pub player: Option<String>,
    pub card: Option<i64>,
}

/// One player's line on the board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardRow {
    pub player: String,
    pub cards: usize,
    pub answered: usize,
    pub correct: usize,
    pub escalated: usize,
    /// Escalations that named the right person.
    pub escalated_right: usize,
    /// Good answers: correct ones and escalations to the right person.
    pub good: usize,
    pub open: usize,
    /// Seconds spent on closed cards.
    pub time_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub session: Option<Session>,
    pub players: Vec<BoardRow>,
}

pub struct Wheel {
    db: Db,
    journal: Journal,
    source: Box<dyn FactSource>,
    /// Players with an open card: card id and the last CLI invocation
    /// recorded for it.
    playing: Mutex<HashMap<String, (i64, Option<String>)>>,
    /// Serializes spins and answers (one open card per player).
    turn: tokio::sync::Mutex<()>,
}

fn valid_name(what: &str, s: &str) -> Result<String, WheelError> {
    let t = s.trim();
    if t.is_empty()
        || t.len() > 64
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(WheelError::Invalid(format!(
            "{what} {s:?}: 1 to 64 letters, digits, '-', '_', '.', '@'"
        )));
    }
    Ok(t.to_string())
}

impl Wheel {
    /// The wheel on the lab's database and journal; the players with an
    /// open card are read back (a restart keeps recording their path).
    pub async fn new(journal: Journal, source: Box<dyn FactSource>) -> Result<Wheel, WheelError> {
        let db = journal.db().clone();
        let open = persist::cards(
            &db,
            &CardFilter {
                open: true,
                ..CardFilter::default()
            },
        )
        .await?;
        let playing = open.into_iter().map(|c| (c.player, (c.id, None))).collect();
        Ok(Wheel {
            db,
            journal,
            source,
            playing: Mutex::new(playing),
            turn: tokio::sync::Mutex::new(()),
        })
    }

    fn playing(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Option<String>)>> {
        self.playing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The open card of `person`, if any, and whether `invocation` is new
    /// for it (then remembered).
    pub fn open_card_of(&self, person: &str, invocation: Option<&str>) -> Option<(i64, bool)> {
        let mut p = self.playing();
        let (id, last) = p.get_mut(person)?;
        let fresh = match invocation {
            Some(inv) if last.as_deref() == Some(inv) => false,
            Some(inv) => {
                *last = Some(inv.to_string());
                true
            }
            None => true,
        };
        Some((*id, fresh))
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The player a request acts for: a non-instructor only for themself.
    fn player_for(by: &Principal, asked: Option<&str>) -> Result<String, WheelError> {
        match asked {
            None => valid_name("player", &by.name),
            Some(p) => {
                let p = valid_name("player", p)?;
                if p != by.name && !by.sees_hidden() {
                    return Err(WheelError::Forbidden(format!(
                        "{} may play only their own cards (asked for {p}); an instructor may act for anyone",
                        by.name
                    )));
                }
                Ok(p)
            }
        }
    }

    pub async fn spin(&self, req: &SpinRequest, by: &Principal) -> Result<CardRow, WheelError> {
        let category = req
            .category
            .as_deref()
            .map(str::parse::<Category>)
            .transpose()
            .map_err(WheelError::Invalid)?;
        if let Some(t) = &req.template {
            if !by.sees_hidden() {
                return Err(WheelError::Forbidden(
                    "choosing the template is for instructors; spin without it".into(),
                ));
            }
            if crate::template::find(t).is_none() {
                return Err(WheelError::Invalid(format!(
                    "unknown template {t:?} (docs/wheel.md lists them)"
                )));
            }
        }
        let player = Self::player_for(by, req.player.as_deref())?;
        let _turn = self.turn.lock().await;
        if let Some((id, _)) = self.playing().get(&player) {
            return Err(WheelError::OpenCard { player, id: *id });
        }
        let current = persist::session(&self.db, None).await?;
        let session = match current {
            Some(s) if !req.new_session && req.seed.is_none_or(|seed| seed == s.seed) => s,
            _ => {
                let seed = req.seed.unwrap_or_else(|| {
                    let t = Utc::now();
                    (t.timestamp() as u64) ^ u64::from(t.timestamp_subsec_nanos()).rotate_left(32)
                });
                let s = persist::new_session(&self.db, seed, &by.name).await?;
                tracing::info!(session = s.id, seed = s.seed, "wheel: new session");
                s
            }
        };
        let n = persist::count(&self.db, session.id).await?;
        let facts = self.source.facts().await?;
        let drawn = card::draw(
            &facts,
            session.seed,
            n as u64,
            category,
            req.template.as_deref(),
        )
        .ok_or_else(|| {
            WheelError::NothingToAsk(match (&req.template, category) {
                (Some(t), _) => format!(" with template {t} (its subject is missing now)"),
                (None, Some(c)) => format!(" in the {c} category"),
                _ => String::new(),
            })
        })?;
        let spun = Utc::now();
        let id = persist::insert_card(&self.db, session.id, n, &player, &drawn, spun).await?;
        self.journal
            .append(
                "wheel.spun",
                &by.name,
                &player,
                json!({
                    "card": id,
                    "session": session.id,
                    "seed": session.seed,
                    "n": n,
                    "template": drawn.template,
                    "category": drawn.category,
                    "question": drawn.question,
                }),
            )
            .await?;
        self.playing().insert(player.clone(), (id, None));
        tracing::info!(card = id, player, template = drawn.template, "wheel: spun");
        persist::card(&self.db, id).await
    }

    /// The card a request means: by id, else the player's open card, else
    /// (for an instructor) the only open card.
    async fn target(
        &self,
        card: Option<i64>,
        player: Option<&str>,
        by: &Principal,
    ) -> Result<CardRow, WheelError> {
        if let Some(id) = card {
            let row = persist::card(&self.db, id).await?;
            Self::player_for(by, Some(&row.player))?;
            return Ok(row);
        }
        let player = Self::player_for(by, player)?;
        let own = self.playing().get(&player).map(|(id, _)| *id);
        if let Some(id) = own {
            return persist::card(&self.db, id).await;
        }
        if by.sees_hidden() {
            let open = persist::cards(
                &self.db,
                &CardFilter {
                    open: true,
                    ..CardFilter::default()
                },
            )
            .await?;
            match open.as_slice() {
                [only] => return Ok(only.clone()),
                [] => {}
                many => {
                    return Err(WheelError::Invalid(format!(
                        "{} cards are open ({}): name the player (--player) or the card (--card)",
                        many.len(),
                        many.iter()
                            .map(|c| format!("#{} {}", c.id, c.player))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        Err(WheelError::NoOpenCard(player))
    }

    async fn close(
        &self,
        row: &CardRow,
        state: CardState,
        given: &str,
        correct: bool,
        by: &Principal,
    ) -> Result<CardRow, WheelError> {
        let at = Utc::now();
        if !persist::close_card(&self.db, row.id, state, given, correct, at).await? {
            let now = persist::card(&self.db, row.id).await?;
            return Err(WheelError::Closed {
                id: row.id,
                state: now.state.as_str().into(),
            });
        }
        let seconds = (at - row.spun).num_milliseconds().max(0) as f64 / 1000.0;
        let (kind, key) = match state {
            CardState::Escalated => ("wheel.escalated", "person"),
            _ => ("wheel.answered", "answer"),
        };
        self.journal
            .append(
                kind,
                &by.name,
                &row.player,
                json!({
                    "card": row.id,
                    "template": row.card.template,
                    key: given,
                    "correct": correct,
                    "seconds": seconds,
                }),
            )
            .await?;
        {
            let mut p = self.playing();
            if p.get(&row.player).is_some_and(|(id, _)| *id == row.id) {
                p.remove(&row.player);
            }
        }
        tracing::info!(
            card = row.id,
            player = row.player,
            kind,
            correct,
            "wheel: card closed"
        );
        persist::card(&self.db, row.id).await
    }

    pub async fn answer(&self, req: &AnswerRequest, by: &Principal) -> Result<CardRow, WheelError> {
        if req.answer.trim().is_empty() {
            return Err(WheelError::Invalid(
                "an empty answer: give a name, a number or a list (or escalate)".into(),
            ));
        }
        if req.answer.len() > 2000 {
            return Err(WheelError::Invalid(
                "an answer of more than 2000 bytes".into(),
            ));
        }
        let _turn = self.turn.lock().await;
        let row = self.target(req.card, req.player.as_deref(), by).await?;
        if row.state != CardState::Open {
            return Err(WheelError::Closed {
                id: row.id,
                state: row.state.as_str().into(),
            });
        }
        let correct = row.card.truth.check(&req.answer);
        self.close(&row, CardState::Answered, req.answer.trim(), correct, by)
            .await
    }

    pub async fn escalate(
        &self,
        req: &EscalateRequest,
        by: &Principal,
    ) -> Result<CardRow, WheelError> {
        let person = valid_name("person", &req.person)?;
        let _turn = self.turn.lock().await;
        let row = self.target(req.card, req.player.as_deref(), by).await?;
        if row.state != CardState::Open {
            return Err(WheelError::Closed {
                id: row.id,
                state: row.state.as_str().into(),
            });
        }
        let correct = row
            .card
            .on_call
            .as_deref()
            .is_some_and(|o| normalise(o) == normalise(&person));
        self.close(&row, CardState::Escalated, &person, correct, by)
            .await
    }

    /// Does `answer` match card `id`'s truth? Nothing is recorded
    /// (instructors: tests and demonstrations).
    pub async fn check(&self, id: i64, answer: &str) -> Result<bool, WheelError> {
        Ok(persist::card(&self.db, id).await?.card.truth.check(answer))
    }

    pub async fn card(&self, id: i64) -> Result<CardRow, WheelError> {
        persist::card(&self.db, id).await
    }

    pub async fn cards(&self, f: &CardFilter) -> Result<Vec<CardRow>, WheelError> {
        persist::cards(&self.db, f).await
    }

    /// The board of the latest session (or `session`).
    pub async fn board(&self, session: Option<i64>) -> Result<Board, WheelError> {
        let Some(s) = persist::session(&self.db, session).await? else {
            return match session {
                Some(_) => Err(WheelError::Invalid(format!(
                    "no session #{}",
                    session.unwrap_or_default()
                ))),
                None => Ok(Board {
                    session: None,
                    players: Vec::new(),
                }),
            };
        };
        let cards = persist::cards(
            &self.db,
            &CardFilter {
                session: Some(s.id),
                limit: Some(10_000),
                ..CardFilter::default()
            },
        )
        .await?;
        Ok(Board {
            session: Some(s),
            players: board_rows(&cards),
        })
    }

    /// The commands and API calls `card`'s player made while it was open,
    /// oldest first (`command.run` events).
    pub async fn commands(&self, row: &CardRow) -> Result<Vec<store::Event>, WheelError> {
        let events = self
            .journal
            .list(&store::Filter {
                since: Some(row.spun),
                until: row.closed,
                kind_prefix: Some("command.run".into()),
                limit: Some(5000),
                ..store::Filter::default()
            })
            .await?;
        Ok(events
            .into_iter()
            .filter(|e| e.source == row.player && e.attributes["card"] == json!(row.id))
            .collect())
    }
}

/// Per player, in order of first card.
pub fn board_rows(cards: &[CardRow]) -> Vec<BoardRow> {
    let mut rows: Vec<BoardRow> = Vec::new();
    for c in cards {
        let i = match rows.iter().position(|r| r.player == c.player) {
            Some(i) => i,
            None => {
                rows.push(BoardRow {
                    player: c.player.clone(),
                    cards: 0,
                    answered: 0,
                    correct: 0,
                    escalated: 0,
                    escalated_right: 0,
                    good: 0,
                    open: 0,
                    time_s: 0.0,
                });
                rows.len() - 1
            }
        };
        let r = &mut rows[i];
        r.cards += 1;
        let right = c.correct == Some(true);
        match c.state {
            CardState::Open => r.open += 1,
            CardState::Answered => {
                r.answered += 1;
                r.correct += usize::from(right);
            }
            CardState::Escalated => {
                r.escalated += 1;
                r.escalated_right += usize::from(right);
            }
        }
        if c.state != CardState::Open {
            r.good += usize::from(right);
            r.time_s += c.seconds();
        }
    }
    rows
}

/// A card as `by` may see it: the truth, the expected path and the on-call
/// only for instructors, or once the card is closed.
pub fn view(row: &CardRow, by: &Principal) -> Value {
    let reveal = by.sees_hidden() || row.state != CardState::Open;
    let mut v = json!({
        "id": row.id,
        "session": row.session,
        "n": row.n,
        "player": row.player,
        "template": row.card.template,
        "category": row.card.category,
        "question": row.card.question,
        "service": row.card.service,
        "kind": row.card.truth.kind(),
        "spun": row.spun,
        "closed": row.closed,
        "state": row.state,
        "given": row.given,
        "correct": row.correct,
        "seconds": row.seconds(),
    });
    if reveal && let Value::Object(m) = &mut v {
        m.insert("truth".into(), json!(row.card.truth));
        m.insert("truth_text".into(), json!(row.card.truth.display()));
        m.insert("how".into(), json!(row.card.how));
        m.insert("on_call".into(), json!(row.card.on_call));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Answer;
    use crate::card::Card;

    fn row(id: i64, player: &str, state: CardState, correct: Option<bool>) -> CardRow {
        let spun = Utc::now() - chrono::Duration::seconds(10);
        CardRow {
            id,
            session: 1,
            n: id,
            player: player.into(),
            spun,
            closed: (state != CardState::Open).then(|| spun + chrono::Duration::seconds(4)),
            state,
            given: None,
            correct,
            card: Card {
                template: "what.version".into(),
                category: Category::What,
                question: "q".into(),
                service: Some("cart".into()),
                truth: Answer::name("v1"),
                how: "firedrill status".into(),
                on_call: Some("bob".into()),
            },
        }
    }

    #[test]
    fn the_board_counts_per_player() {
        let cards = vec![
            row(1, "alice", CardState::Answered, Some(true)),
            row(2, "bob", CardState::Escalated, Some(true)),
            row(3, "alice", CardState::Answered, Some(false)),
            row(4, "alice", CardState::Escalated, Some(false)),
            row(5, "bob", CardState::Open, None),
        ];
        let b = board_rows(&cards);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].player, "alice");
        assert_eq!((b[0].cards, b[0].answered, b[0].correct), (3, 2, 1));
        assert_eq!((b[0].escalated, b[0].escalated_right), (1, 0));
        assert!((b[0].time_s - 12.0).abs() < 0.01);
        assert_eq!((b[1].cards, b[1].open, b[1].escalated_right), (2, 1, 1));
    }

    #[test]
    fn the_truth_is_hidden_until_answered_except_from_instructors() {
        let trainee = Principal {
            name: "alice".into(),
            role: wire::Role::Trainee,
        };
        let open = row(1, "alice", CardState::Open, None);
        assert!(view(&open, &trainee).get("truth").is_none());
        assert!(view(&open, &trainee).get("on_call").is_none());
        assert!(view(&open, &Principal::lab_owner()).get("truth").is_some());
        let done = row(1, "alice", CardState::Answered, Some(true));
        assert_eq!(view(&done, &trainee)["truth_text"], "v1");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("player", "alice").is_ok());
        assert!(valid_name("player", "").is_err());
        assert!(valid_name("player", "a b").is_err());
        assert!(valid_name("player", &"x".repeat(65)).is_err());
    }
}
