//! Reports: the handoff summary at the end of a shift, and on-call load
//! per person and per shift (pages, off-hours pages, time to acknowledge).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::error::OnCallError;
use crate::pages::{OnCall, Page, PageFilter};
use crate::schedule::Shift;
use crate::tickets::Ticket;

#[derive(Debug, Serialize)]
pub struct Handoff {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Who was on call in the range.
    pub shifts: Vec<Shift>,
    pub opened: usize,
    pub acknowledged: usize,
    pub resolved: usize,
    pub escalations: usize,
    pub mean_seconds_to_acknowledge: Option<f64>,
    pub median_seconds_to_acknowledge: Option<f64>,
    /// Pages opened in the range.
    pub pages: Vec<Page>,
    /// What the next shift inherits: pages not resolved, tickets open.
    pub open_pages: Vec<Page>,
    pub open_tickets: Vec<Ticket>,
}

#[derive(Debug, Serialize, Default, Clone)]
pub struct PersonLoad {
    pub person: String,
    pub pages: usize,
    pub off_hours_pages: usize,
    pub shadow_pages: usize,
    pub acknowledged: usize,
    pub mean_seconds_to_acknowledge: Option<f64>,
    pub hours_on_call: f64,
}

#[derive(Debug, Serialize)]
pub struct ShiftLoad {
    pub shift: Shift,
    pub pages: usize,
    pub off_hours_pages: usize,
}

#[derive(Debug, Serialize)]
pub struct Load {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub people: Vec<PersonLoad>,
    pub shifts: Vec<ShiftLoad>,
}

fn ack_seconds(p: &Page) -> Option<f64> {
    p.acknowledged
        .map(|a| (a - p.created).num_milliseconds() as f64 / 1000.0)
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

impl OnCall {
    async fn pages_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Page>, OnCallError> {
        let mut pages = self
            .pages(&PageFilter {
                since: Some(from),
                limit: Some(10_000),
                ..Default::default()
            })
            .await?;
        pages.retain(|p| p.created < to);
        pages.reverse();
        Ok(pages)
    }

    /// The handoff summary for `[from, to)`.
    pub async fn handoff(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Handoff, OnCallError> {
        let pages = self.pages_between(from, to).await?;
        let acks: Vec<f64> = pages.iter().filter_map(ack_seconds).collect();
        let escalations = self
            .journal
            .list(&store::Filter {
                since: Some(from),
                until: Some(to),
                kind_prefix: Some("page.escalated".into()),
                ..Default::default()
            })
            .await?
            .len();
        let open_pages = self
            .pages(&PageFilter {
                status: Some("open".into()),
                limit: Some(10_000),
                ..Default::default()
            })
            .await?;
        Ok(Handoff {
            from,
            to,
            shifts: crate::roster::shifts(&self.config, from, to, None),
            opened: pages.len(),
            acknowledged: pages.iter().filter(|p| p.acknowledged.is_some()).count(),
            resolved: pages.iter().filter(|p| p.status == "resolved").count(),
            escalations,
            mean_seconds_to_acknowledge: mean(&acks),
            median_seconds_to_acknowledge: median(&acks),
            pages,
            open_pages,
            open_tickets: self.tickets(Some("open")).await?,
        })
    }

    /// Load per person and per shift over `[from, to)`.
    pub async fn load(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Load, OnCallError> {
        let rows = sqlx::query("SELECT page_id, person, role, time_ms FROM page_recipients WHERE time_ms >= $1 AND time_ms < $2")
            .bind(from.timestamp_millis())
            .bind(to.timestamp_millis())
            .fetch_all(&self.db.pool)
            .await?;
        let wh = &self.config.working_hours;
        let tz = self.config.working_hours_tz;
        let off_hours = |t: DateTime<Utc>| !wh.contains(t.with_timezone(&tz).naive_local());
        // (person, page) -> first time paged, and whether only as a shadow.
        let mut received: BTreeMap<(String, i64), (DateTime<Utc>, bool)> = BTreeMap::new();
        for r in &rows {
            let (page, person, role, ms): (i64, String, String, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
            let e = received.entry((person, page)).or_insert((t, true));
            e.0 = e.0.min(t);
            e.1 &= role == "shadow";
        }
        let shifts = crate::roster::shifts(&self.config, from, to, None);
        let pages = self.pages_between(from, to).await?;
        let mut people: BTreeMap<String, PersonLoad> = BTreeMap::new();
        let names: BTreeSet<String> = self
            .config
            .people
            .iter()
            .map(|p| p.handle.clone())
            .collect();
        for n in &names {
            people.insert(
                n.clone(),
                PersonLoad {
                    person: n.clone(),
                    ..Default::default()
                },
            );
        }
        for ((person, _), (t, shadow)) in &received {
            let l = people.entry(person.clone()).or_insert_with(|| PersonLoad {
                person: person.clone(),
                ..Default::default()
            });
            if *shadow {
                l.shadow_pages += 1;
            } else {
                l.pages += 1;
                if off_hours(*t) {
                    l.off_hours_pages += 1;
                }
            }
        }
        for l in people.values_mut() {
            let acks: Vec<f64> = pages
                .iter()
                .filter(|p| p.acknowledged_by.as_deref() == Some(&l.person))
                .filter_map(ack_seconds)
                .collect();
            l.acknowledged = acks.len();
            l.mean_seconds_to_acknowledge = mean(&acks);
            l.hours_on_call = shifts
                .iter()
                .filter(|s| s.person == l.person)
                .map(|s| (s.end - s.start).num_seconds() as f64 / 3600.0)
                .sum();
        }
        let shift_loads = shifts
            .into_iter()
            .map(|s| {
                let mine: Vec<DateTime<Utc>> = received
                    .iter()
                    .filter(|((p, _), (t, shadow))| {
                        *p == s.person && !shadow && *t >= s.start && *t < s.end
                    })
                    .map(|(_, (t, _))| *t)
                    .collect();
                ShiftLoad {
                    pages: mine.len(),
                    off_hours_pages: mine.iter().filter(|t| off_hours(**t)).count(),
                    shift: s,
                }
            })
            .collect();
        Ok(Load {
            from,
            to,
            people: people.into_values().collect(),
            shifts: shift_loads,
        })
    }
}
