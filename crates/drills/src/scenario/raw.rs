//! The scenario file as written (docs/drills.md, "The scenario file"):
//! every value keeps its position so `validate` can point at it. Unknown
//! fields and wrong types are serde-saphyr's errors (through `diag::yaml`);
//! everything else is checked in `validate`.

use std::fmt;
use std::marker::PhantomData;

use chaos::InjectRequest;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned as S;

use super::model::{Actor, Cmp};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub id: S<String>,
    pub title: S<String>,
    pub topology: S<String>,
    pub difficulty: S<i64>,
    #[serde(default)]
    pub skills: Vec<S<String>>,
    pub typical: S<Text>,
    pub time_limit: S<Text>,
    #[serde(default)]
    pub shadow: bool,
    pub briefing: S<String>,
    #[serde(default)]
    pub setup: Vec<S<RawSetup>>,
    pub faults: S<Vec<S<RawFault>>>,
    pub objectives: S<Vec<S<RawObjective>>>,
    #[serde(default)]
    pub hints: Vec<S<RawHint>>,
    #[serde(default)]
    pub wrong: Vec<S<RawWrong>>,
    #[serde(default)]
    pub scoring: Option<S<RawScoring>>,
    #[serde(default)]
    pub ideal_path: Vec<S<String>>,
}

/// A setup step: `op` says which fields it takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSetup {
    pub op: S<String>,
    #[serde(default)]
    pub rps: Option<S<f64>>,
    #[serde(default)]
    pub service: Option<S<String>>,
    #[serde(default)]
    pub set: Option<S<Pairs<Text>>>,
    #[serde(default)]
    pub instances: Option<S<i64>>,
    #[serde(default)]
    pub version: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub id: S<String>,
    pub title: S<String>,
    #[serde(default)]
    pub root: Option<bool>,
    /// A duration or a range `A..B`.
    #[serde(default)]
    pub after: Option<S<Text>>,
    #[serde(default)]
    pub release: Option<S<RawRelease>>,
    #[serde(default)]
    pub inject: Option<S<InjectRequest>>,
    #[serde(default)]
    pub surge: Option<S<RawSurge>>,
    #[serde(default)]
    pub config: Option<S<RawConfig>>,
    #[serde(default)]
    pub variants: Option<S<Vec<S<RawAction>>>>,
    pub remedies: S<Vec<S<RawRemedy>>>,
}

impl RawFault {
    /// The fault's own action fields (a variant of one, or none when the
    /// fault has `variants`).
    pub fn action(&self) -> ActionRef<'_> {
        ActionRef {
            release: self.release.as_ref(),
            inject: self.inject.as_ref(),
            surge: self.surge.as_ref(),
            config: self.config.as_ref(),
        }
    }
}

/// One variant of a fault: exactly one action.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    #[serde(default)]
    pub release: Option<S<RawRelease>>,
    #[serde(default)]
    pub inject: Option<S<InjectRequest>>,
    #[serde(default)]
    pub surge: Option<S<RawSurge>>,
    #[serde(default)]
    pub config: Option<S<RawConfig>>,
}

impl RawAction {
    pub fn action(&self) -> ActionRef<'_> {
        ActionRef {
            release: self.release.as_ref(),
            inject: self.inject.as_ref(),
            surge: self.surge.as_ref(),
            config: self.config.as_ref(),
        }
    }
}

/// The action fields of a fault or of a variant, whichever holds them.
#[derive(Clone, Copy)]
pub struct ActionRef<'a> {
    pub release: Option<&'a S<RawRelease>>,
    pub inject: Option<&'a S<InjectRequest>>,
    pub surge: Option<&'a S<RawSurge>>,
    pub config: Option<&'a S<RawConfig>>,
}

impl ActionRef<'_> {
    /// The names of the actions given, in field order.
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("release", self.release.is_some()),
            ("inject", self.inject.is_some()),
            ("surge", self.surge.is_some()),
            ("config", self.config.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub service: S<String>,
    pub version: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurge {
    pub rps: S<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub service: S<String>,
    pub set: S<Pairs<Text>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemedy {
    pub when: S<OneOrMany<RawMatch>>,
    #[serde(default)]
    pub relief: Option<S<Text>>,
    pub note: S<String>,
}

/// A pattern over journal events.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMatch {
    pub kind: S<String>,
    #[serde(default)]
    pub subject: Option<S<String>>,
    /// `path: value` or `path: {equals, gte, lte}`.
    #[serde(default)]
    pub attrs: Option<S<Pairs<serde_json::Value>>>,
    #[serde(default)]
    pub actor: Option<S<Actor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    pub id: S<String>,
    pub title: S<String>,
    #[serde(default)]
    pub query: Option<S<String>>,
    #[serde(default)]
    pub op: Option<S<Cmp>>,
    #[serde(default)]
    pub threshold: Option<S<f64>>,
    #[serde(default)]
    pub hold: Option<S<Text>>,
    #[serde(default)]
    pub window: Option<S<Text>>,
    #[serde(default)]
    pub event: Option<S<RawMatch>>,
    #[serde(default)]
    pub actor: Option<S<Actor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHint {
    pub text: S<String>,
    pub cost: S<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWrong {
    pub when: S<RawMatch>,
    pub cost: S<f64>,
    pub why: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    #[serde(default)]
    pub acknowledge: Option<S<Text>>,
    #[serde(default)]
    pub mitigate: Option<S<Text>>,
    #[serde(default)]
    pub resolve: Option<S<Text>>,
    #[serde(default)]
    pub weights: Option<S<RawWeights>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    #[serde(default)]
    pub objectives: Option<S<f64>>,
    #[serde(default)]
    pub speed: Option<S<f64>>,
    #[serde(default)]
    pub clean: Option<S<f64>>,
}

/// Any scalar as the text it was written as: durations (`0` and `5` are
/// passed on to the duration grammar, which says what is wrong with them)
/// and config values (`draining: true`, `concurrency_limit: 10`).
#[derive(Debug, Clone, PartialEq)]
pub struct Text(pub String);

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text, number or true/false")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping in file order, with the position of every key.
pub struct Pairs<V>(pub Vec<(S<String>, S<V>)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut items = Vec::new();
                while let Some(k) = map.next_key::<S<String>>()? {
                    items.push((k, map.next_value::<S<V>>()?));
                }
                Ok(Pairs(items))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// One item, or a list of them (`when: {kind: …}` or `when: [{…}, {…}]`).
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<S<T>>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Vis<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a matcher ({kind: …}) or a list of matchers")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OneOrMany<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<S<T>>()? {
                    items.push(item);
                }
                Ok(OneOrMany::Many(items))
            }
        }
        d.deserialize_any(Vis(PhantomData))
    }
}
