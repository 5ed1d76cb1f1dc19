//! Any YAML document with the position of every key and item, used to name
//! the field a YAML error points at.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// The shape of a YAML document: maps and sequences with positions.
#[derive(Debug)]
pub enum Node {
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Scalar,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Scalar)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(n) = seq.next_element::<Spanned<Node>>()? {
                    items.push(n);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    let v = map.next_value::<Spanned<Node>>()?;
                    items.push((k, v));
                }
                Ok(Node::Map(items))
            }
        }
        d.deserialize_any(V)
    }
}

fn pos(l: &Location) -> (u64, u64) {
    (l.line(), l.column())
}

/// The field path (`services[1].endpoints[0].latency`) of the deepest key or
/// item at or before `line:column` in `root`.
pub fn field_at(root: &Spanned<Node>, line: u64, column: u64) -> String {
    let target = (line, column);
    let mut path = String::new();
    let mut node = root;
    loop {
        match &node.value {
            Node::Map(items) => {
                let Some((k, v)) = items
                    .iter()
                    .rev()
                    .find(|(k, _)| pos(&k.referenced) <= target && k.referenced.line() > 0)
                else {
                    return path;
                };
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.value);
                node = v;
            }
            Node::Seq(items) => {
                let Some((i, v)) = items
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, v)| pos(&v.referenced) <= target && v.referenced.line() > 0)
                else {
                    return path;
                };
                path.push_str(&format!("[{i}]"));
                node = v;
            }
            Node::Scalar => return path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_deepest_field_at_a_position() {
        let text = "a:\n  - x: 1\n    lat: {median: 5ms, p99: 40ms}\n  - y: 2\n    lat: 3ms\n";
        let node: Spanned<Node> = serde_saphyr::from_str(text).unwrap();
        assert_eq!(field_at(&node, 4, 5), "a[1].y");
        assert_eq!(field_at(&node, 3, 20), "a[0].lat.median");
        assert_eq!(field_at(&node, 5, 10), "a[1].lat");
        assert_eq!(field_at(&node, 1, 1), "a");
    }
}
