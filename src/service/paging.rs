//! Pagination as Comprehend's List operations do it: `MaxResults` (1-500, default 100) items a
//! page and an opaque `NextToken` for the next page, which the CLI's auto-pagination and boto3's
//! paginators follow. Tokens are offsets into the list as the filter leaves it.

use super::error::ApiError;

/// Items per page when the request gives no `MaxResults`.
const DEFAULT_PAGE: usize = 100;

/// Where a page starts and how long it is, from the request's `NextToken` and `MaxResults`
/// (already checked against the API model's range).
pub fn window(
    next_token: Option<&str>,
    max_results: Option<i64>,
) -> Result<(usize, usize), ApiError> {
    let start = match next_token {
        None => 0,
        Some(t) => t
            .strip_prefix("offset-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "invalid NextToken '{t}': pass the NextToken of the previous page"
                ))
            })?,
    };
    let max = max_results.map_or(DEFAULT_PAGE, |n| n.max(1) as usize);
    Ok((start, max))
}

/// One page of `items` and the token of the next, if any.
pub fn page<T>(items: Vec<T>, (start, max): (usize, usize)) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let end = start.saturating_add(max).min(total);
    let page: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next = (end < total).then(|| format!("offset-{end}"));
    (page, next)
}

/// Comprehend's List filters take one member at a time: `given` pairs each member's name with
/// whether the request set it; two or more is `InvalidFilterException`, naming them all.
pub fn one_filter_member(given: &[(&str, bool)]) -> Result<(), ApiError> {
    if given.iter().filter(|(_, set)| *set).count() > 1 {
        let names: Vec<&str> = given.iter().map(|(name, _)| *name).collect();
        return Err(ApiError::new(
            "InvalidFilterException",
            format!(
                "The filter specified for the operation is invalid: give only one of {}",
                names.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_tokens() {
        let (p, next) = page((0..5).collect::<Vec<_>>(), (0, 2));
        assert_eq!((p, next.as_deref()), (vec![0, 1], Some("offset-2")));
        let (p, next) = page((0..5).collect::<Vec<_>>(), (4, 2));
        assert_eq!((p, next), (vec![4], None));
        assert_eq!(window(Some("offset-7"), None).unwrap(), (7, 100));
        assert_eq!(window(None, Some(3)).unwrap(), (0, 3));
        assert!(window(Some("garbage"), None).is_err());
    }

    #[test]
    fn one_filter_member_at_a_time() {
        assert!(one_filter_member(&[("Status", true), ("CreationTimeAfter", false)]).is_ok());
        assert!(one_filter_member(&[("Status", false), ("CreationTimeAfter", false)]).is_ok());
        let err = one_filter_member(&[("Status", true), ("CreationTimeAfter", true)]).unwrap_err();
        assert_eq!(err.code, "InvalidFilterException");
        assert!(err
            .message
            .ends_with("give only one of Status, CreationTimeAfter"));
    }
}
