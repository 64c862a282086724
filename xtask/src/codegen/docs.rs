//! One-line doc comments from the models' HTML documentation.

/// Longest first sentence kept; longer ones are cut at a word and marked with `…`, which keeps
/// the generated files readable without losing the gist.
const MAX_CHARS: usize = 200;

/// The first sentence of `html` as plain text, safe inside a `///` comment, or `None` when the
/// documentation has no text.
pub fn first_sentence(html: &str) -> Option<String> {
    let text = strip_tags(html);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return None;
    }
    let sentence = match sentence_end(&text) {
        Some(end) => &text[..end],
        None => text.as_str(),
    };
    let mut out = if sentence.chars().count() > MAX_CHARS {
        let cut: String = sentence.chars().take(MAX_CHARS).collect();
        let cut = match cut.rfind(' ') {
            Some(sp) => cut[..sp].to_owned(),
            None => cut,
        };
        format!("{}…", cut.trim_end_matches([',', ';', ':']))
    } else {
        sentence.to_owned()
    };
    // Square brackets would be read as intra-doc links by rustdoc.
    out = out.replace('[', "\\[").replace(']', "\\]");
    Some(out)
}

/// Removes `<tag ...>` markup; entities such as `&lt;` are left for rustdoc's markdown.
fn strip_tags(html: &str) -> String {
    const INLINE: &[&str] = &["a", "b", "code", "em", "i", "strong", "u", "sub", "sup"];
    let mut out = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(t), '>') => {
                let name: String = t
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                // Block tags separate words that the markup renders apart; inline ones do not.
                if !INLINE.contains(&name.to_ascii_lowercase().as_str()) {
                    out.push(' ');
                }
                tag = None;
            }
            (Some(t), _) => t.push(c),
            (None, _) => out.push(c),
        }
    }
    out
}

/// Byte index just past the first sentence's full stop, skipping the stops of `e.g.` / `i.e.`.
fn sentence_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find(". ") {
        let end = i + pos + 1;
        let before = &text[..end];
        let abbreviation = ["e.g.", "i.e.", "etc.", "vs.", "approx."]
            .iter()
            .any(|a| before.ends_with(a));
        let next_is_upper = bytes.get(end + 1).is_some_and(|b| b.is_ascii_uppercase());
        if !abbreviation || next_is_upper && before.ends_with("etc.") {
            return Some(end);
        }
        i = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_sentence_without_markup() {
        assert_eq!(
            first_sentence("<p>The API's identifier. This identifier is unique.</p>").as_deref(),
            Some("The API's identifier.")
        );
        assert_eq!(
            first_sentence("<p>A list, e.g. <code>[a]</code>, or more.</p>").as_deref(),
            Some("A list, e.g. \\[a\\], or more.")
        );
        assert_eq!(first_sentence("<p></p>"), None);
    }

    #[test]
    fn long_sentences_are_cut_at_a_word() {
        let long = format!("<p>{}</p>", "word ".repeat(100));
        let doc = first_sentence(&long).unwrap_or_default();
        assert!(doc.ends_with("word…"), "{doc}");
        assert!(doc.chars().count() <= MAX_CHARS + 1);
    }
}
