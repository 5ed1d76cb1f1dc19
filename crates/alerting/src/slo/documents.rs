//! A YAML stream split into its documents (`---`), each with the line it
//! starts on, so that errors inside a document still name the line of the
//! file.

/// One document: its text and how many lines of the file come before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub text: String,
    pub line_offset: u64,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with('%')
    })
}

/// The non-empty documents of `text`. A `---` at the start of a line opens
/// a document (anything after it on the line belongs to it, at the same
/// columns), `...` closes one; documents of only comments are left out.
pub fn split(text: &str) -> Vec<Document> {
    let mut docs = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut start = 0u64;
    let mut push = |lines: &mut Vec<String>, start: u64| {
        let body = lines.join("\n");
        if !is_blank(&body) {
            docs.push(Document {
                text: body,
                line_offset: start,
            });
        }
        lines.clear();
    };
    for (i, line) in text.lines().enumerate() {
        if is_marker(line, "---") {
            push(&mut current, start);
            start = i as u64;
            // Keep what follows the marker at its column.
            current.push(format!("   {}", &line[3..]));
        } else if is_marker(line, "...") {
            push(&mut current, start);
            start = i as u64 + 1;
        } else {
            current.push(line.to_string());
        }
    }
    push(&mut current, start);
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_lines() {
        let text = "# head\n---\na: 1\n---\n# only a comment\n---\nb: 2\nc: |\n  x\n";
        let docs = split(text);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line_offset, 1);
        assert_eq!(docs[0].text, "   \na: 1");
        assert_eq!(docs[1].line_offset, 5);
        // Line 2 of the second document is line 7 of the file.
        assert_eq!(docs[1].text.lines().nth(1), Some("b: 2"));
    }

    #[test]
    fn one_document_without_markers() {
        let docs = split("a: 1\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].line_offset, 0);
    }

    #[test]
    fn dashes_inside_a_value_are_not_a_marker() {
        assert_eq!(split("a: ---\nb: '---x'\n").len(), 1);
        assert_eq!(split("---x: 1\n").len(), 1);
    }
}
