//! Series ids and the inverted postings index (label name=value -> sorted series ids).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::model::{Labels, MatchOp, Matcher};

/// Identifier of a series in one store; never reused while the store runs.
pub type SeriesId = u32;

/// Maps label sets to series ids and label pairs to postings lists.
#[derive(Debug, Default)]
pub struct Index {
    by_labels: HashMap<Arc<Labels>, SeriesId>,
    by_id: HashMap<SeriesId, Arc<Labels>>,
    /// name -> value -> sorted ids.
    postings: BTreeMap<String, BTreeMap<String, Vec<SeriesId>>>,
    /// All ids, sorted.
    all: Vec<SeriesId>,
    next_id: SeriesId,
}

impl Index {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The id a new series would get.
    pub fn next_id(&self) -> SeriesId {
        self.next_id
    }

    /// Makes sure ids handed out later are at least `id`.
    pub fn reserve_ids_below(&mut self, id: SeriesId) {
        self.next_id = self.next_id.max(id);
    }

    pub fn get(&self, labels: &Labels) -> Option<SeriesId> {
        self.by_labels.get(labels).copied()
    }

    pub fn labels(&self, id: SeriesId) -> Option<&Arc<Labels>> {
        self.by_id.get(&id)
    }

    /// Returns the series' id, creating it if needed; `true` when created.
    pub fn get_or_create(&mut self, labels: &Labels) -> (SeriesId, Arc<Labels>, bool) {
        if let Some((l, &id)) = self.by_labels.get_key_value(labels) {
            return (id, l.clone(), false);
        }
        let id = self.next_id;
        let l = Arc::new(labels.clone());
        self.insert(id, l.clone());
        (id, l, true)
    }

    /// Adds a series with a given id (used when loading from disk).
    /// Fails when the labels or the id are already present.
    pub fn insert_with_id(&mut self, id: SeriesId, labels: Arc<Labels>) -> Result<(), String> {
        if self.by_labels.contains_key(labels.as_ref()) {
            return Err(format!("duplicate series {labels}"));
        }
        if self.by_id.contains_key(&id) {
            return Err(format!("duplicate series id {id}"));
        }
        self.insert(id, labels);
        Ok(())
    }

    fn insert(&mut self, id: SeriesId, labels: Arc<Labels>) {
        for l in labels.iter() {
            let list = self
                .postings
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default();
            insert_sorted(list, id);
        }
        insert_sorted(&mut self.all, id);
        self.by_id.insert(id, labels.clone());
        self.by_labels.insert(labels, id);
        self.next_id = self.next_id.max(id.saturating_add(1));
    }

    /// Removes series (e.g. when retention dropped all their samples).
    pub fn remove(&mut self, ids: &[SeriesId]) {
        for &id in ids {
            let Some(labels) = self.by_id.remove(&id) else {
                continue;
            };
            self.by_labels.remove(labels.as_ref());
            for l in labels.iter() {
                if let Some(values) = self.postings.get_mut(&l.name) {
                    if let Some(list) = values.get_mut(&l.value) {
                        remove_sorted(list, id);
                        if list.is_empty() {
                            values.remove(&l.value);
                        }
                    }
                    if values.is_empty() {
                        self.postings.remove(&l.name);
                    }
                }
            }
            remove_sorted(&mut self.all, id);
        }
    }

    /// Sorted ids of the series matching all matchers (all series when empty).
    ///
    /// `=` with a non-empty value intersects one postings list; other matchers
    /// scan the label's values. A matcher that matches the empty string also
    /// selects series without the label, so it is applied by subtracting the
    /// series whose value does not match.
    pub fn postings_for_matchers(&self, matchers: &[Matcher]) -> Vec<SeriesId> {
        let mut result: Option<Vec<SeriesId>> = None;
        let mut subtract: Vec<&[SeriesId]> = Vec::new();
        for m in matchers {
            let values = self.postings.get(&m.name);
            if m.matches("") {
                if let Some(values) = values {
                    for (v, ids) in values {
                        if !m.matches(v) {
                            subtract.push(ids);
                        }
                    }
                }
                continue;
            }
            let ids: Vec<SeriesId> = match (m.op, values) {
                (_, None) => Vec::new(),
                (MatchOp::Equal, Some(values)) => values.get(&m.value).cloned().unwrap_or_default(),
                (_, Some(values)) => {
                    let lists: Vec<&[SeriesId]> = values
                        .iter()
                        .filter(|(v, _)| m.matches(v))
                        .map(|(_, ids)| ids.as_slice())
                        .collect();
                    union(&lists)
                }
            };
            let next = match result {
                None => ids,
                Some(r) => intersect(&r, &ids),
            };
            if next.is_empty() {
                return next;
            }
            result = Some(next);
        }
        let r = result.unwrap_or_else(|| self.all.clone());
        if subtract.is_empty() {
            return r;
        }
        let sub = union(&subtract);
        difference(&r, &sub)
    }

    /// All label names, sorted.
    pub fn label_names(&self) -> Vec<String> {
        self.postings.keys().cloned().collect()
    }

    /// All values of a label, sorted.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.postings
            .get(name)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Label names used by the given series, sorted.
    pub fn label_names_of(&self, ids: &[SeriesId]) -> Vec<String> {
        let mut set = BTreeSet::new();
        for id in ids {
            if let Some(l) = self.by_id.get(id) {
                for l in l.iter() {
                    if !set.contains(l.name.as_str()) {
                        set.insert(l.name.clone());
                    }
                }
            }
        }
        set.into_iter().collect()
    }

    /// Values of a label among the given series, sorted.
    pub fn label_values_of(&self, name: &str, ids: &[SeriesId]) -> Vec<String> {
        let mut set = BTreeSet::new();
        for id in ids {
            if let Some(v) = self.by_id.get(id).and_then(|l| l.get(name))
                && !set.contains(v)
            {
                set.insert(v.to_string());
            }
        }
        set.into_iter().collect()
    }

    /// Rough heap usage of the index.
    pub fn memory_bytes(&self) -> usize {
        let mut n = self.all.capacity() * 4;
        // Two hash map entries per series: key/value pointers plus hashing overhead.
        n += self.by_labels.capacity() * 24 + self.by_id.capacity() * 24;
        for l in self.by_id.values() {
            n += 48 + l.len() * std::mem::size_of::<crate::model::Label>();
            n += l
                .iter()
                .map(|l| l.name.len() + l.value.len())
                .sum::<usize>();
        }
        for (name, values) in &self.postings {
            n += name.len() + 64;
            for (v, ids) in values {
                n += v.len() + 64 + ids.capacity() * 4;
            }
        }
        n
    }
}

fn insert_sorted(list: &mut Vec<SeriesId>, id: SeriesId) {
    match list.last() {
        Some(&last) if last >= id => {
            if let Err(i) = list.binary_search(&id) {
                list.insert(i, id);
            }
        }
        _ => list.push(id),
    }
}

fn remove_sorted(list: &mut Vec<SeriesId>, id: SeriesId) {
    if let Ok(i) = list.binary_search(&id) {
        list.remove(i);
    }
}

/// Intersection of two sorted lists.
pub fn intersect(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut out = Vec::with_capacity(small.len());
    if small.len() * 16 < large.len() {
        // Galloping via binary search when sizes differ a lot.
        let mut rest = large;
        for &x in small {
            match rest.binary_search(&x) {
                Ok(i) => {
                    out.push(x);
                    rest = &rest[i + 1..];
                }
                Err(i) => rest = &rest[i..],
            }
        }
        return out;
    }
    let (mut i, mut j) = (0, 0);
    while i < small.len() && j < large.len() {
        match small[i].cmp(&large[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(small[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Union of sorted lists.
pub fn union(lists: &[&[SeriesId]]) -> Vec<SeriesId> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists[0].to_vec(),
        _ => {
            let mut out: Vec<SeriesId> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

/// Elements of sorted `a` not in sorted `b`.
pub fn difference(a: &[SeriesId], b: &[SeriesId]) -> Vec<SeriesId> {
    let mut out = Vec::with_capacity(a.len());
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
        Matcher::new(op, n, v).unwrap()
    }

    fn index() -> (Index, Vec<Labels>) {
        let sets = vec![
            Labels::new([("__name__", "up"), ("job", "api"), ("instance", "a")]),
            Labels::new([("__name__", "up"), ("job", "api"), ("instance", "b")]),
            Labels::new([("__name__", "up"), ("job", "db"), ("instance", "c")]),
            Labels::new([
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "200"),
            ]),
            Labels::new([
                ("__name__", "http_requests_total"),
                ("job", "api"),
                ("code", "500"),
            ]),
            Labels::new([("__name__", "build_info")]),
        ];
        let mut idx = Index::new();
        for s in &sets {
            idx.get_or_create(s);
        }
        (idx, sets)
    }

    /// Reference: filter every series with `matches_labels`.
    fn brute(idx: &Index, ms: &[Matcher]) -> Vec<SeriesId> {
        let mut v: Vec<SeriesId> = idx
            .by_id
            .iter()
            .filter(|(_, l)| ms.iter().all(|m| m.matches_labels(l)))
            .map(|(&id, _)| id)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn ids_are_stable_and_unique() {
        let (mut idx, sets) = index();
        assert_eq!(idx.len(), sets.len());
        let (id, _, created) = idx.get_or_create(&sets[2]);
        assert!(!created);
        assert_eq!(id, 2);
        assert_eq!(idx.get(&sets[4]), Some(4));
    }

    #[test]
    fn matchers_agree_with_brute_force() {
        let (idx, _) = index();
        use MatchOp::*;
        let cases: Vec<Vec<Matcher>> = vec![
            vec![m(Equal, "__name__", "up")],
            vec![m(Equal, "__name__", "up"), m(Equal, "job", "api")],
            vec![m(Equal, "__name__", "up"), m(NotEqual, "job", "api")],
            vec![m(Regex, "job", "a.*")],
            vec![m(Regex, "job", "api|db")],
            vec![m(NotRegex, "job", "api")],
            vec![m(Equal, "code", "")],
            vec![m(NotEqual, "code", "")],
            vec![m(Regex, "code", "|5..")],
            vec![m(Regex, "code", "5..")],
            vec![m(NotRegex, "code", "5..")],
            vec![m(Regex, "instance", ".*")],
            vec![m(Regex, "instance", ".+")],
            vec![m(Equal, "missing", "x")],
            vec![m(NotEqual, "missing", "x")],
            vec![m(Equal, "__name__", "up"), m(Equal, "job", "nope")],
            vec![],
        ];
        for ms in cases {
            assert_eq!(idx.postings_for_matchers(&ms), brute(&idx, &ms), "{ms:?}");
        }
    }

    #[test]
    fn empty_matcher_selects_series_without_label() {
        let (idx, _) = index();
        let got = idx.postings_for_matchers(&[m(MatchOp::Equal, "code", "")]);
        assert_eq!(got, vec![0, 1, 2, 5]);
    }

    #[test]
    fn label_names_and_values() {
        let (idx, _) = index();
        assert_eq!(
            idx.label_names(),
            vec!["__name__", "code", "instance", "job"]
        );
        assert_eq!(idx.label_values("job"), vec!["api", "db"]);
        let ids = idx.postings_for_matchers(&[m(MatchOp::Equal, "__name__", "up")]);
        assert_eq!(
            idx.label_names_of(&ids),
            vec!["__name__", "instance", "job"]
        );
        assert_eq!(idx.label_values_of("instance", &ids), vec!["a", "b", "c"]);
    }

    #[test]
    fn remove_cleans_postings() {
        let (mut idx, sets) = index();
        idx.remove(&[3, 4]);
        assert_eq!(idx.label_names(), vec!["__name__", "instance", "job"]);
        assert_eq!(idx.get(&sets[3]), None);
        let (id, _, created) = idx.get_or_create(&sets[3]);
        assert!(created);
        assert_eq!(id, 6, "ids are not reused");
    }

    #[test]
    fn set_operations() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[3, 4, 5]), vec![3, 5]);
        let big: Vec<u32> = (0..1000).collect();
        assert_eq!(intersect(&[5, 500, 2000], &big), vec![5, 500]);
        assert_eq!(union(&[&[1, 4], &[2, 4, 9]]), vec![1, 2, 4, 9]);
        assert_eq!(difference(&[1, 2, 3, 4], &[2, 4, 8]), vec![1, 3]);
    }
}
