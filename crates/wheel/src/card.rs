//! A question card and the draw: the seed and the card's number decide the
//! order in which templates are tried; the first whose subject exists in
//! this lab makes the card. Same seed, same number, same facts: same card.

use drills::plan::Rng;
use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::facts::Facts;
use crate::template::{self, Template};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Who,
    What,
    Where,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Who, Category::What, Category::Where];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Who => "who",
            Category::What => "what",
            Category::Where => "where",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "who" => Ok(Category::Who),
            "what" => Ok(Category::What),
            "where" => Ok(Category::Where),
            other => Err(format!(
                "unknown category {other:?}: use who, what or where"
            )),
        }
    }
}

/// What a template makes of the facts: the question and its truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub question: String,
    /// The service the question is about: whose on-call an escalation
    /// should name.
    pub service: Option<String>,
    pub truth: Answer,
    /// The query or command that finds the truth (the debrief's expected
    /// path).
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub template: String,
    pub category: Category,
    pub question: String,
    pub service: Option<String>,
    pub truth: Answer,
    pub how: String,
    /// Who an escalation should name: the primary on call at the spin.
    pub on_call: Option<String>,
}

/// Draws card number `n` of a session seeded `seed`: the templates (of
/// `category` if given) in an order the seed decides, the first that has a
/// subject in `facts` making the card. `only` forces one template.
pub fn draw(
    facts: &Facts,
    seed: u64,
    n: u64,
    category: Option<Category>,
    only: Option<&str>,
) -> Option<Card> {
    let mut rng = Rng::new(seed ^ n.wrapping_mul(0xA24B_AED4_963E_E407));
    let mut candidates: Vec<&Template> = template::all()
        .iter()
        .filter(|t| category.is_none_or(|c| t.category == c))
        .filter(|t| only.is_none_or(|id| t.id == id))
        .collect();
    // The category first (so the three come up evenly), then a shuffle.
    if category.is_none() && only.is_none() {
        let first = Category::ALL[rng.below(3) as usize];
        candidates.sort_by_key(|t| t.category != first);
    }
    let (head, tail): (Vec<&Template>, Vec<&Template>) = match candidates.first() {
        Some(first) => {
            let c = first.category;
            candidates.iter().partition(|t| t.category == c)
        }
        None => return None,
    };
    for group in [head, tail] {
        let mut group = group;
        shuffle(&mut group, &mut rng);
        for t in group {
            let mut sub = Rng::new(rng.next_u64());
            if let Some(d) = (t.generate)(facts, &mut sub) {
                return Some(Card {
                    template: t.id.to_string(),
                    category: t.category,
                    question: d.question,
                    service: d.service,
                    truth: d.truth,
                    how: d.how,
                    on_call: facts.primary().map(str::to_string),
                });
            }
        }
    }
    None
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_facts_same_card() {
        let f = Facts::sample();
        for n in 0..20 {
            let a = draw(&f, 42, n, None, None);
            let b = draw(&f, 42, n, None, None);
            assert!(a.is_some());
            assert_eq!(a, b);
        }
    }

    #[test]
    fn seeds_differ_and_categories_hold() {
        let f = Facts::sample();
        let cards: Vec<Card> = (0..12).filter_map(|n| draw(&f, 7, n, None, None)).collect();
        let distinct: std::collections::BTreeSet<&str> =
            cards.iter().map(|c| c.template.as_str()).collect();
        assert!(distinct.len() > 4, "{distinct:?}");
        for c in Category::ALL {
            for n in 0..6 {
                let card = draw(&f, 3, n, Some(c), None);
                assert_eq!(card.map(|x| x.category), Some(c));
            }
        }
    }

    #[test]
    fn a_forced_template_or_none() {
        let f = Facts::sample();
        let c = draw(&f, 1, 0, None, Some("what.version"));
        assert_eq!(c.map(|c| c.template), Some("what.version".to_string()));
        assert!(draw(&f, 1, 0, None, Some("no.such")).is_none());
        assert!(draw(&Facts::default(), 1, 0, None, Some("what.version")).is_none());
    }
}
