//! Question templates, one file per category. A template picks its subject
//! from the facts with the card's random stream and computes the truth; it
//! gives `None` when this lab has no such subject (no page acknowledged
//! yet, no apprentice), and the draw tries another.

mod what;
mod where_;
mod who;

use drills::plan::Rng;

use crate::card::{Category, Draft};
use crate::facts::{Facts, Sample};

pub struct Template {
    /// `category.name`, e.g. `who.oncall-primary`.
    pub id: &'static str,
    pub category: Category,
    /// The question in general terms (docs/wheel.md, `wheel templates`).
    pub summary: &'static str,
    pub generate: fn(&Facts, &mut Rng) -> Option<Draft>,
}

/// Every template, by category.
pub fn all() -> &'static [Template] {
    static ALL: std::sync::OnceLock<Vec<Template>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = Vec::new();
        v.extend(who::TEMPLATES.iter().map(copy));
        v.extend(what::TEMPLATES.iter().map(copy));
        v.extend(where_::TEMPLATES.iter().map(copy));
        v
    })
}

fn copy(t: &Template) -> Template {
    Template {
        id: t.id,
        category: t.category,
        summary: t.summary,
        generate: t.generate,
    }
}

pub fn find(id: &str) -> Option<&'static Template> {
    all().iter().find(|t| t.id == id)
}

/// The templates as a markdown table per category (docs/wheel.md carries
/// it between its `templates` markers; a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::new();
    for c in Category::ALL {
        out += &format!(
            "\n### {}\n\n| template | question |\n|---|---|\n",
            c.as_str().to_uppercase()
        );
        for t in all().iter().filter(|t| t.category == c) {
            out += &format!("| `{}` | {} |\n", t.id, t.summary);
        }
    }
    out
}

/// One of `items`, or `None` when there are none.
pub(crate) fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        return None;
    }
    items.get(rng.below(items.len() as u64) as usize)
}

/// The sample with the highest value (ties: the first in key order).
pub(crate) fn top<'a>(samples: impl Iterator<Item = &'a Sample>) -> Option<&'a Sample> {
    samples.fold(None, |best: Option<&Sample>, s| match best {
        Some(b) if b.value >= s.value => Some(b),
        _ => Some(s),
    })
}

/// An instance's name `svc/N` with its address as another spelling.
pub(crate) fn instance_answer(facts: &Facts, addr: &str) -> Option<crate::Answer> {
    let name = facts.instance_name(addr)?;
    Some(crate::Answer::name_or(name, vec![addr.to_string()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_thirty_templates_ids_unique_and_categorised() {
        let all = all();
        assert!(all.len() >= 30, "{} templates", all.len());
        let mut ids: Vec<&str> = all.iter().map(|t| t.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "template ids are unique");
        for t in all {
            assert!(t.id.starts_with(&format!("{}.", t.category)), "{}", t.id);
        }
        for c in Category::ALL {
            assert!(all.iter().filter(|t| t.category == c).count() >= 10, "{c}");
        }
    }

    #[test]
    fn every_template_makes_a_card_that_accepts_its_truth_and_refuses_a_wrong_answer() {
        let f = Facts::sample();
        for t in all() {
            for seed in 0..5 {
                let mut rng = Rng::new(seed);
                let d = (t.generate)(&f, &mut rng)
                    .unwrap_or_else(|| panic!("{} made no card from the sample facts", t.id));
                assert!(!d.question.is_empty() && !d.how.is_empty(), "{}", t.id);
                let truth = d.truth.typed();
                assert!(
                    d.truth.check(&truth),
                    "{}: its truth {truth:?} is refused",
                    t.id
                );
                let wrong = d.truth.wrong_example();
                assert!(
                    !d.truth.check(&wrong),
                    "{}: wrong answer {wrong:?} accepted",
                    t.id
                );
            }
        }
    }

    /// docs/wheel.md lists the templates; `UPDATE_DOCS=1 cargo test -p
    /// wheel` rewrites its list.
    #[test]
    fn docs_list_every_template() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/wheel.md");
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let (start, end) = (
            "<!-- templates: generated -->\n",
            "<!-- end of templates -->",
        );
        let (Some(a), Some(b)) = (doc.find(start), doc.find(end)) else {
            panic!("docs/wheel.md lacks its template markers");
        };
        let want = markdown();
        let have = &doc[a + start.len()..b];
        if have != want {
            if std::env::var_os("UPDATE_DOCS").is_some() {
                let new = format!("{}{want}{}", &doc[..a + start.len()], &doc[b..]);
                std::fs::write(path, new).unwrap_or_default();
            } else {
                panic!(
                    "docs/wheel.md's template list is out of date: run UPDATE_DOCS=1 cargo test -p wheel"
                );
            }
        }
    }

    #[test]
    fn nothing_to_ask_in_an_empty_lab() {
        let f = Facts::default();
        for t in all() {
            assert!((t.generate)(&f, &mut Rng::new(1)).is_none(), "{}", t.id);
        }
    }
}
