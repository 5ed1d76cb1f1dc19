//! Generated hostile inputs: huge, deep, binary, non-UTF-8, bombs.

/// Every byte value, repeated: not text in any format.
pub fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// `valid` with invalid UTF-8 bytes at the start of its second line.
pub fn non_utf8(valid: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut lines = valid.splitn(2, '\n');
    out.extend_from_slice(lines.next().unwrap_or("").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    out.extend_from_slice(lines.next().unwrap_or("").as_bytes());
    out
}

/// `n` levels of YAML/JSON flow nesting.
pub fn deep_brackets(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

/// The billion laughs in YAML: nine levels of nine aliases.
pub fn yaml_bomb() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut prev = "a";
    for n in names {
        s += &format!(
            "{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        );
        prev = n;
    }
    s
}

/// A huge document: one line of `mib` MiB of a key.
pub fn huge_yaml(mib: usize) -> String {
    format!("{}: 1\n", "k".repeat(mib << 20))
}

/// A deep JSON value (`n` nested arrays).
pub fn deep_json(n: usize) -> Vec<u8> {
    deep_brackets(n).into_bytes()
}

/// A sum of `n` terms (a PromQL expression of about 4n bytes).
pub fn sum_of(n: usize) -> String {
    vec!["up"; n].join("+")
}

/// `n` nested calls.
pub fn nested_calls(n: usize) -> String {
    format!("{}up{}", "abs(".repeat(n), ")".repeat(n))
}
