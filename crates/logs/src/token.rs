//! Pagination tokens.
//!
//! GetLogEvents tokens are what CloudWatch sends: `f/` (forward) or `b/` (backward) and 56
//! digits, here the position in the stream the next page starts from (forward) or ends
//! before (backward). Other tokens are opaque to clients; Portico's say where the next page
//! starts so that pages stay stable while new entries arrive.

/// A GetLogEvents token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventToken {
    /// Events from this position on, oldest first.
    Forward(u64),
    /// Events before this position, newest last.
    Backward(u64),
}

impl EventToken {
    pub fn parse(token: &str) -> Option<Self> {
        // CloudWatch's own tokens may carry a `/s` suffix; accept it when read back.
        let token = token.strip_suffix("/s").unwrap_or(token);
        let (kind, digits) = token.split_at_checked(2)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let position = digits.parse().ok()?;
        match kind {
            "f/" => Some(Self::Forward(position)),
            "b/" => Some(Self::Backward(position)),
            _ => None,
        }
    }

    pub fn render(self) -> String {
        match self {
            Self::Forward(p) => format!("f/{p:056}"),
            Self::Backward(p) => format!("b/{p:056}"),
        }
    }
}

/// Where the next FilterLogEvents page starts: after the event with this timestamp and id
/// (results are ordered by both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterToken {
    pub timestamp: i64,
    pub id: u64,
}

impl FilterToken {
    pub fn parse(token: &str) -> Option<Self> {
        let (timestamp, id) = token.strip_prefix("e/")?.split_once('/')?;
        Some(Self {
            timestamp: timestamp.parse().ok()?,
            id: id.parse().ok()?,
        })
    }

    pub fn render(self) -> String {
        format!("e/{}/{}", self.timestamp, self.id)
    }
}

/// Where the next DescribeLogGroups / DescribeLogStreams page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListToken {
    /// After this name (name order).
    After(String),
    /// From this offset (LastEventTime order).
    Offset(usize),
}

impl ListToken {
    pub fn parse(token: &str) -> Option<Self> {
        if let Some(name) = token.strip_prefix("n/") {
            return Some(Self::After(name.to_owned()));
        }
        token.strip_prefix("o/")?.parse().ok().map(Self::Offset)
    }

    pub fn render(&self) -> String {
        match self {
            Self::After(name) => format!("n/{name}"),
            Self::Offset(offset) => format!("o/{offset}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_tokens_are_shaped_as_cloudwatch_sends_them() {
        let f = EventToken::Forward(42).render();
        assert_eq!(
            f,
            "f/00000000000000000000000000000000000000000000000000000042"
        );
        assert_eq!(f.len(), 58);
        assert_eq!(EventToken::parse(&f), Some(EventToken::Forward(42)));
        let b = EventToken::Backward(7).render();
        assert_eq!(
            b,
            "b/00000000000000000000000000000000000000000000000000000007"
        );
        assert_eq!(EventToken::parse(&b), Some(EventToken::Backward(7)));
        assert_eq!(
            EventToken::parse("f/00000000000000000000000000000000000000000000000000000003/s"),
            Some(EventToken::Forward(3))
        );
        for bad in [
            "",
            "f/",
            "x/12",
            "f/-1",
            "f/12a",
            "b12",
            "f/99999999999999999999999",
        ] {
            assert_eq!(EventToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn filter_and_list_tokens_round_trip() {
        let t = FilterToken {
            timestamp: 1_700_000_000_123,
            id: 9,
        };
        assert_eq!(t.render(), "e/1700000000123/9");
        assert_eq!(FilterToken::parse(&t.render()), Some(t));
        assert_eq!(FilterToken::parse("e/x/1"), None);
        assert_eq!(FilterToken::parse("1/2"), None);
        let n = ListToken::After("/aws/lambda/f".into());
        assert_eq!(n.render(), "n//aws/lambda/f");
        assert_eq!(ListToken::parse(&n.render()), Some(n));
        assert_eq!(ListToken::parse("o/50"), Some(ListToken::Offset(50)));
        assert_eq!(ListToken::parse("o/x"), None);
        assert_eq!(ListToken::parse("junk"), None);
    }
}
