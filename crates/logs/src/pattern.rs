//! Filter patterns for unstructured events: terms, quoted phrases, `?` (any of) and `-`
//! (none of) terms, matched case-sensitively as CloudWatch does.
//!
//! `ERROR WARN` keeps events containing both, `?ERROR ?WARN` events containing either,
//! `ERROR -Retrying` events containing `ERROR` but not `Retrying`, and `"Task timed out"` the
//! phrase. An empty pattern keeps everything. JSON (`{ $.level = ... }`) and space-delimited
//! (`[ip, user, ...]`) patterns are refused rather than matched wrongly.
//!
//! A term matches anywhere in the message (CloudWatch also matches terms inside longer words
//! for unstructured events, e.g. `ERR` in `ERROR`).

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    required: Vec<String>,
    any_of: Vec<String>,
    none_of: Vec<String>,
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// JSON or space-delimited patterns.
    Unsupported,
    /// An opening quote without its closing one.
    UnterminatedQuote,
}

impl Pattern {
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let trimmed = pattern.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            return Err(PatternError::Unsupported);
        }
        let mut parsed = Self::default();
        let mut rest = trimmed;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            rest = &rest[start..];
            let (bucket, after_sign) = match rest.as_bytes()[0] {
                b'?' => (&mut parsed.any_of, &rest[1..]),
                b'-' if rest.len() > 1 => (&mut parsed.none_of, &rest[1..]),
                _ => (&mut parsed.required, rest),
            };
            let (term, remaining) = if let Some(quoted) = after_sign.strip_prefix('"') {
                read_quoted(quoted)?
            } else {
                let end = after_sign
                    .find(char::is_whitespace)
                    .unwrap_or(after_sign.len());
                (after_sign[..end].to_owned(), &after_sign[end..])
            };
            if !term.is_empty() {
                bucket.push(term);
            }
            rest = remaining;
        }
        Ok(parsed)
    }

    pub fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| message.contains(t.as_str()))
            && (self.any_of.is_empty() || self.any_of.iter().any(|t| message.contains(t.as_str())))
            && !self.none_of.iter().any(|t| message.contains(t.as_str()))
    }
}

/// Reads a quoted phrase (after its opening quote) with `\"` and `\\` escapes; returns it and
/// what follows the closing quote.
fn read_quoted(input: &str) -> Result<(String, &str), PatternError> {
    let mut phrase = String::new();
    let mut chars = input.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((phrase, &input[i + 1..])),
            '\\' => match chars.next() {
                Some((_, escaped)) => phrase.push(escaped),
                None => return Err(PatternError::UnterminatedQuote),
            },
            other => phrase.push(other),
        }
    }
    Err(PatternError::UnterminatedQuote)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_must_all_appear_case_sensitively() {
        assert!(keeps("", "anything"));
        assert!(keeps("   ", "anything"));
        assert!(keeps("ERROR", "2024 ERROR disk full"));
        assert!(!keeps("ERROR", "2024 error disk full"));
        assert!(keeps("ERROR disk", "2024 ERROR disk full"));
        assert!(!keeps("ERROR memory", "2024 ERROR disk full"));
        assert!(keeps("ERR", "ERROR"));
    }

    #[test]
    fn quoted_phrases_match_as_a_whole() {
        assert!(keeps("\"disk full\"", "ERROR disk full"));
        assert!(!keeps("\"full disk\"", "ERROR disk full"));
        assert!(keeps("\"Task timed out\" START", "START x Task timed out"));
        assert!(keeps(r#""say \"hi\"""#, r#"we say "hi" here"#));
        assert_eq!(
            Pattern::parse("\"open"),
            Err(PatternError::UnterminatedQuote)
        );
    }

    #[test]
    fn optional_and_excluded_terms() {
        assert!(keeps("?ERROR ?WARN", "WARN low disk"));
        assert!(keeps("?ERROR ?WARN", "ERROR"));
        assert!(!keeps("?ERROR ?WARN", "INFO ok"));
        assert!(keeps("ERROR -Retrying", "ERROR failed"));
        assert!(!keeps("ERROR -Retrying", "ERROR Retrying in 5s"));
        assert!(keeps("-\"timed out\"", "all fine"));
        assert!(!keeps("-\"timed out\"", "Task timed out"));
        // A lone dash is a term, not an empty exclusion.
        assert!(keeps("-", "a - b"));
    }

    #[test]
    fn structured_patterns_are_refused() {
        assert_eq!(
            Pattern::parse("{ $.level = \"ERROR\" }"),
            Err(PatternError::Unsupported)
        );
        assert_eq!(Pattern::parse("[ip, user]"), Err(PatternError::Unsupported));
    }
}
