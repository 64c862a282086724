//! Log group and log stream operations.

use std::sync::Arc;

use portico_core::AwsError;
use portico_protocol::OperationOutput;

use crate::shapes::{
    DescribeLogGroupsInput, DescribeLogGroupsOutput, DescribeLogStreamsInput,
    DescribeLogStreamsOutput, Empty, GroupInput, LogGroup, LogStream, StreamInput,
};
use crate::store::{Group, Region, Stream};
use crate::token::ListToken;
use crate::{group_not_found, invalid, limit, now_ms, null_member, required, stream_not_found};

/// Longest group or stream name.
const MAX_NAME: usize = 512;
/// DescribeLogGroups / DescribeLogStreams page size limit (and default).
const MAX_PAGE: usize = 50;

fn length_error(member: &str, value: &str, constraint: &str) -> AwsError {
    invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length {constraint}"
    ))
}

/// Checks a log group name: 1 to 512 of `[.-_/#A-Za-z0-9]`.
fn check_group_name<'a>(name: &'a str, member: &str) -> Result<&'a str, AwsError> {
    if name.is_empty() {
        return Err(length_error(member, name, "greater than or equal to 1"));
    }
    if name.len() > MAX_NAME {
        return Err(length_error(member, name, "less than or equal to 512"));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b".-_/#".contains(&b);
    if !name.bytes().all(allowed) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )));
    }
    Ok(name)
}

/// Checks a log stream name: 1 to 512 characters, no `:` or `*`.
fn check_stream_name(name: &str) -> Result<&str, AwsError> {
    if name.is_empty() {
        return Err(length_error(
            "logStreamName",
            name,
            "greater than or equal to 1",
        ));
    }
    if name.len() > MAX_NAME {
        return Err(length_error(
            "logStreamName",
            name,
            "less than or equal to 512",
        ));
    }
    if name.contains([':', '*']) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
        )));
    }
    Ok(name)
}

/// The group a request names, by `logGroupName` or `logGroupIdentifier` (a name or an ARN).
pub(crate) fn resolve_group(
    region: &Region,
    name: Option<&str>,
    identifier: Option<&str>,
) -> Result<Arc<Group>, AwsError> {
    let name = match (name, identifier) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
            ));
        }
        (Some(name), None) => check_group_name(name, "logGroupName")?,
        (None, Some(identifier)) => group_name_of(identifier),
        (None, None) => return Err(null_member("logGroupName")),
    };
    region.group(name).ok_or_else(group_not_found)
}

/// The group name in `arn:aws:logs:{region}:{account}:log-group:{name}[:*]`, or the
/// identifier itself when it is a name.
fn group_name_of(identifier: &str) -> &str {
    match identifier.split_once(":log-group:") {
        Some((_, name)) if identifier.starts_with("arn:") => {
            name.strip_suffix(":*").unwrap_or(name)
        }
        _ => identifier,
    }
}

fn group_arn(region: &Region, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        region.region, region.account_id
    )
}

pub(crate) fn create_group(
    region: &Region,
    input: GroupInput,
) -> Result<OperationOutput, AwsError> {
    let name = required(input.log_group_name, "logGroupName")?;
    check_group_name(&name, "logGroupName")?;
    match region.create_group(&name, now_ms()) {
        Some(_) => OperationOutput::aws_json(&Empty {}),
        None => Err(AwsError::new(
            "ResourceAlreadyExistsException",
            400,
            "The specified log group already exists",
        )),
    }
}

pub(crate) fn delete_group(
    region: &Region,
    input: GroupInput,
) -> Result<OperationOutput, AwsError> {
    let name = required(input.log_group_name, "logGroupName")?;
    check_group_name(&name, "logGroupName")?;
    if !region.remove_group(&name) {
        return Err(group_not_found());
    }
    OperationOutput::aws_json(&Empty {})
}

pub(crate) fn describe_groups(
    region: &Region,
    input: DescribeLogGroupsInput,
) -> Result<OperationOutput, AwsError> {
    let page = limit(input.limit, MAX_PAGE, MAX_PAGE)?;
    let prefix = input.log_group_name_prefix.unwrap_or_default();
    if !prefix.is_empty() {
        check_group_name(&prefix, "logGroupNamePrefix")?;
    }
    let after = match input.next_token.as_deref().map(ListToken::parse) {
        None => None,
        Some(Some(ListToken::After(name))) => Some(name),
        Some(_) => return Err(invalid("The specified nextToken is invalid.")),
    };
    let groups = region.groups_from(&prefix, after.as_deref());
    let next_token =
        (groups.len() > page).then(|| ListToken::After(groups[page - 1].name.clone()).render());
    let log_groups = groups
        .iter()
        .take(page)
        .map(|g| {
            let arn = group_arn(region, &g.name);
            LogGroup {
                log_group_name: g.name.clone(),
                creation_time: g.creation_time,
                metric_filter_count: 0,
                arn: format!("{arn}:*"),
                stored_bytes: 0,
                log_group_class: "STANDARD",
                log_group_arn: arn,
            }
        })
        .collect();
    OperationOutput::aws_json(&DescribeLogGroupsOutput {
        log_groups,
        next_token,
    })
}

pub(crate) fn create_stream(
    region: &Region,
    input: StreamInput,
) -> Result<OperationOutput, AwsError> {
    let group_name = required(input.log_group_name, "logGroupName")?;
    let stream_name = required(input.log_stream_name, "logStreamName")?;
    check_stream_name(&stream_name)?;
    let group = resolve_group(region, Some(&group_name), None)?;
    match group.create_stream(&stream_name, now_ms()) {
        Some(_) => OperationOutput::aws_json(&Empty {}),
        None => Err(AwsError::new(
            "ResourceAlreadyExistsException",
            400,
            "The specified log stream already exists",
        )),
    }
}

pub(crate) fn delete_stream(
    region: &Region,
    input: StreamInput,
) -> Result<OperationOutput, AwsError> {
    let group_name = required(input.log_group_name, "logGroupName")?;
    let stream_name = required(input.log_stream_name, "logStreamName")?;
    let group = resolve_group(region, Some(&group_name), None)?;
    if !group.remove_stream(&stream_name) {
        return Err(stream_not_found());
    }
    OperationOutput::aws_json(&Empty {})
}

fn describe_stream(region: &Region, group: &Group, stream: &Stream) -> LogStream {
    let events = stream.lock();
    LogStream {
        log_stream_name: stream.name.clone(),
        creation_time: stream.creation_time,
        first_event_timestamp: events.first_event_timestamp,
        last_event_timestamp: events.last_event_timestamp,
        last_ingestion_time: events.last_ingestion_time,
        upload_sequence_token: Some(crate::events::sequence_token(events.uploads)),
        arn: format!(
            "{}:log-stream:{}",
            group_arn(region, &group.name),
            stream.name
        ),
        stored_bytes: 0,
    }
}

pub(crate) fn describe_streams(
    region: &Region,
    input: DescribeLogStreamsInput,
) -> Result<OperationOutput, AwsError> {
    let page = limit(input.limit, MAX_PAGE, MAX_PAGE)?;
    let by_last_event = match input.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LastEventTime, LogStreamName]"
            )));
        }
    };
    let prefix = input.log_stream_name_prefix.unwrap_or_default();
    if by_last_event && !prefix.is_empty() {
        return Err(invalid(
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let group = resolve_group(
        region,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    let token = match input.next_token.as_deref().map(ListToken::parse) {
        None => None,
        Some(Some(token)) => Some(token),
        Some(None) => return Err(invalid("The specified nextToken is invalid.")),
    };
    let mut streams: Vec<LogStream> = group
        .streams()
        .iter()
        .filter(|s| s.name.starts_with(&prefix))
        .map(|s| describe_stream(region, &group, s))
        .collect();
    if by_last_event {
        // Streams without events sort as the oldest; names break ties so pages are stable.
        streams.sort_by(|a, b| {
            a.last_event_timestamp
                .unwrap_or(0)
                .cmp(&b.last_event_timestamp.unwrap_or(0))
                .then_with(|| a.log_stream_name.cmp(&b.log_stream_name))
        });
    }
    if input.descending.unwrap_or(false) {
        streams.reverse();
    }
    let start = match token {
        None => 0,
        Some(ListToken::Offset(offset)) if by_last_event => offset,
        Some(ListToken::After(name)) if !by_last_event => streams
            .iter()
            .position(|s| {
                if input.descending.unwrap_or(false) {
                    s.log_stream_name < name
                } else {
                    s.log_stream_name > name
                }
            })
            .unwrap_or(streams.len()),
        Some(_) => return Err(invalid("The specified nextToken is invalid.")),
    };
    let rest: Vec<LogStream> = streams.into_iter().skip(start).collect();
    let more = rest.len() > page;
    let log_streams: Vec<LogStream> = rest.into_iter().take(page).collect();
    let next_token = more.then(|| {
        if by_last_event {
            ListToken::Offset(start + page).render()
        } else {
            ListToken::After(log_streams[page - 1].log_stream_name.clone()).render()
        }
    });
    OperationOutput::aws_json(&DescribeLogStreamsOutput {
        log_streams,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_may_be_arns() {
        assert_eq!(
            group_name_of("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"),
            "/aws/lambda/f"
        );
        assert_eq!(
            group_name_of("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f"),
            "/aws/lambda/f"
        );
        assert_eq!(group_name_of("/aws/lambda/f"), "/aws/lambda/f");
    }

    #[test]
    fn names_are_checked_as_the_model_says() {
        assert!(check_group_name("/aws/lambda/my-fn_1.#", "logGroupName").is_ok());
        let error = check_group_name("bad name", "logGroupName").unwrap_err();
        assert_eq!(error.code, "InvalidParameterException");
        assert_eq!(
            error.message,
            "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        );
        assert!(check_stream_name("2024/01/01/[$LATEST]abc").is_ok());
        assert!(check_stream_name("a:b").is_err());
        assert!(check_stream_name("").is_err());
    }
}
