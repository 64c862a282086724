//! `position`/`limit` pagination as API Gateway does it: `limit` defaults to 25 (max 500) and
//! `position` is an opaque token naming where the next page starts.

use portico_core::AwsError;

/// One page of `items`, with the token of the next page if any.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    id_of: impl Fn(&T) -> Option<&str>,
    position: Option<&str>,
    limit: Option<i32>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = match limit {
        None => 25,
        Some(l) if (1..=500).contains(&l) => l as usize,
        Some(_) => {
            return Err(AwsError::bad_request(
                "Invalid limit specified. Must be between 1 and 500.",
            ));
        }
    };
    let start = match position {
        None => 0,
        Some(token) => items
            .iter()
            .position(|item| id_of(item) == Some(token))
            .ok_or_else(|| AwsError::bad_request("Invalid pagination token"))?,
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = if rest.len() > limit {
        id_of(&rest[limit]).map(str::to_owned)
    } else {
        None
    };
    rest.truncate(limit);
    Ok((rest, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_position_token() {
        let items: Vec<String> = (0..30).map(|i| format!("id{i}")).collect();
        let (page, next) = paginate(items.clone(), |s| Some(s.as_str()), None, None).unwrap();
        assert_eq!(page.len(), 25);
        assert_eq!(next.as_deref(), Some("id25"));
        let (page, next) =
            paginate(items.clone(), |s| Some(s.as_str()), Some("id25"), None).unwrap();
        assert_eq!(page, vec!["id25", "id26", "id27", "id28", "id29"]);
        assert_eq!(next, None);
        assert!(paginate(items, |s| Some(s.as_str()), None, Some(0)).is_err());
    }
}
