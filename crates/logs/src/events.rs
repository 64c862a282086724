//! PutLogEvents, GetLogEvents and FilterLogEvents.

use std::sync::Arc;

use portico_core::AwsError;
use portico_protocol::OperationOutput;

use crate::groups::resolve_group;
use crate::pattern::{Pattern, PatternError};
use crate::shapes::{
    FilterLogEventsInput, FilterLogEventsOutput, FilteredLogEvent, GetLogEventsInput,
    GetLogEventsOutput, OutputLogEvent, PutLogEventsInput, PutLogEventsOutput,
    RejectedLogEventsInfo, SearchedLogStream,
};
use crate::store::{Event, Events, Region, Store, Stream};
use crate::token::{EventToken, FilterToken};
use crate::{invalid, limit, now_ms, required, stream_not_found};

/// Most events one GetLogEvents, FilterLogEvents or PutLogEvents call carries.
const MAX_EVENTS_PER_CALL: usize = 10_000;
/// PutLogEvents refuses events older than this (CloudWatch: 14 days)…
const TOO_OLD_MS: i64 = 14 * 24 * 3600 * 1000;
/// …or further in the future than this (2 hours)…
const TOO_NEW_MS: i64 = 2 * 3600 * 1000;
/// …and batches spanning more than 24 hours.
const MAX_BATCH_SPAN_MS: i64 = 24 * 3600 * 1000;

/// `nextSequenceToken` / `uploadSequenceToken`: CloudWatch's 56 digits. They are no longer
/// checked (as CloudWatch stopped checking them), only reported.
pub(crate) fn sequence_token(uploads: u64) -> String {
    format!("{uploads:056}")
}

pub(crate) fn put(
    store: &Store,
    region: &Region,
    input: PutLogEventsInput,
) -> Result<OperationOutput, AwsError> {
    let group_name = required(input.log_group_name, "logGroupName")?;
    let stream_name = required(input.log_stream_name, "logStreamName")?;
    let events = required(input.log_events, "logEvents")?;
    if events.is_empty() || events.len() > MAX_EVENTS_PER_CALL {
        return Err(invalid(format!(
            "1 validation error detected: Value '{}' at 'logEvents' failed to satisfy constraint: Member must have length {}",
            events.len(),
            if events.is_empty() {
                "greater than or equal to 1".to_owned()
            } else {
                format!("less than or equal to {MAX_EVENTS_PER_CALL}")
            }
        )));
    }
    let mut batch = Vec::with_capacity(events.len());
    for (i, event) in events.into_iter().enumerate() {
        let timestamp = required(
            event.timestamp,
            &format!("logEvents.{}.member.timestamp", i + 1),
        )?;
        let message = required(
            event.message,
            &format!("logEvents.{}.member.message", i + 1),
        )?;
        batch.push((timestamp, message));
    }
    if batch.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let (first, last) = (batch[0].0, batch[batch.len() - 1].0);
    if last - first > MAX_BATCH_SPAN_MS {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let group = resolve_group(region, Some(&group_name), None)?;
    let stream = group.stream(&stream_name).ok_or_else(stream_not_found)?;
    let now = now_ms();
    // Chronological order makes the refused events a prefix (too old) and a suffix (too new).
    let too_old_end = batch.iter().rposition(|(t, _)| *t < now - TOO_OLD_MS);
    let too_new_start = batch.iter().position(|(t, _)| *t > now + TOO_NEW_MS);
    let accepted_from = too_old_end.map_or(0, |i| i + 1);
    let accepted_to = too_new_start.unwrap_or(batch.len()).max(accepted_from);
    let mut events = stream.lock();
    for (timestamp, message) in batch.drain(accepted_from..accepted_to) {
        events.push(Event {
            timestamp,
            ingestion_time: now,
            id: store.event_id(),
            message,
            newline: false,
        });
    }
    events.uploads += 1;
    let next_sequence_token = sequence_token(events.uploads);
    drop(events);
    let rejected =
        (too_old_end.is_some() || too_new_start.is_some()).then_some(RejectedLogEventsInfo {
            too_new_log_event_start_index: too_new_start,
            too_old_log_event_end_index: too_old_end,
        });
    OperationOutput::aws_json(&PutLogEventsOutput {
        next_sequence_token,
        rejected_log_events_info: rejected,
    })
}

/// The time window of a read: `startTime` inclusive, `endTime` exclusive.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Option<i64>,
    end: Option<i64>,
}

impl Window {
    fn contains(self, timestamp: i64) -> bool {
        self.start.is_none_or(|s| timestamp >= s) && self.end.is_none_or(|e| timestamp < e)
    }
}

/// One GetLogEvents page: `(position, event)` pairs oldest first, and the tokens.
fn page(
    events: &Events,
    token: Option<EventToken>,
    start_from_head: bool,
    window: Window,
    limit: usize,
) -> (Vec<(u64, &Event)>, EventToken, EventToken) {
    let first = events.first_position;
    let end = events.end_position();
    let direction = token.unwrap_or(if start_from_head {
        EventToken::Forward(first)
    } else {
        EventToken::Backward(end)
    });
    let positioned = events
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (first + i as u64, e));
    let picked: Vec<(u64, &Event)> = match direction {
        EventToken::Forward(from) => positioned
            .filter(|(p, e)| *p >= from && window.contains(e.timestamp))
            .take(limit)
            .collect(),
        EventToken::Backward(before) => {
            let mut newest: Vec<_> = positioned
                .rev()
                .filter(|(p, e)| *p < before && window.contains(e.timestamp))
                .take(limit)
                .collect();
            newest.reverse();
            newest
        }
    };
    let (forward, backward) = match (picked.first(), picked.last()) {
        (Some((oldest, _)), Some((newest, _))) => (
            EventToken::Forward(newest + 1),
            EventToken::Backward(*oldest),
        ),
        // Nothing there: both tokens stay where the read was, so a client following
        // nextForwardToken sees the same token again and knows it reached the end.
        _ => {
            let at = match direction {
                EventToken::Forward(p) | EventToken::Backward(p) => p,
            };
            (EventToken::Forward(at), EventToken::Backward(at))
        }
    };
    (picked, forward, backward)
}

pub(crate) fn get(region: &Region, input: GetLogEventsInput) -> Result<OperationOutput, AwsError> {
    let stream_name = required(input.log_stream_name, "logStreamName")?;
    let limit = limit(input.limit, MAX_EVENTS_PER_CALL, MAX_EVENTS_PER_CALL)?;
    let token = match input.next_token.as_deref() {
        None => None,
        Some(raw) => Some(
            EventToken::parse(raw).ok_or_else(|| invalid("The specified nextToken is invalid."))?,
        ),
    };
    let group = resolve_group(
        region,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    let stream = group.stream(&stream_name).ok_or_else(stream_not_found)?;
    let window = Window {
        start: input.start_time,
        end: input.end_time,
    };
    let events = stream.lock();
    let (picked, forward, backward) = page(
        &events,
        token,
        input.start_from_head.unwrap_or(false),
        window,
        limit,
    );
    let output = GetLogEventsOutput {
        events: picked
            .into_iter()
            .map(|(_, e)| OutputLogEvent {
                timestamp: e.timestamp,
                message: e.text(),
                ingestion_time: e.ingestion_time,
            })
            .collect(),
        next_forward_token: forward.render(),
        next_backward_token: backward.render(),
    };
    drop(events);
    OperationOutput::aws_json(&output)
}

pub(crate) fn filter(
    region: &Region,
    input: FilterLogEventsInput,
) -> Result<OperationOutput, AwsError> {
    let limit = limit(input.limit, MAX_EVENTS_PER_CALL, MAX_EVENTS_PER_CALL)?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(invalid(
            "You cannot specify both logStreamNames and logStreamNamePrefix.",
        ));
    }
    let pattern = Pattern::parse(input.filter_pattern.as_deref().unwrap_or("")).map_err(|e| {
        invalid(match e {
            PatternError::Unsupported => {
                "Portico matches term filter patterns only (terms, \"quoted phrases\", ?any and -none terms); JSON and space-delimited patterns are not supported."
            }
            PatternError::UnterminatedQuote => "Invalid filter pattern: a quote is not closed.",
        })
    })?;
    let after = match input.next_token.as_deref() {
        None => None,
        Some(raw) => Some(
            FilterToken::parse(raw)
                .ok_or_else(|| invalid("The specified nextToken is invalid."))?,
        ),
    };
    let group = resolve_group(
        region,
        input.log_group_name.as_deref(),
        input.log_group_identifier.as_deref(),
    )?;
    let streams: Vec<Arc<Stream>> = match &input.log_stream_names {
        Some(names) => names.iter().filter_map(|n| group.stream(n)).collect(),
        None => {
            let prefix = input.log_stream_name_prefix.as_deref().unwrap_or("");
            group
                .streams()
                .into_iter()
                .filter(|s| s.name.starts_with(prefix))
                .collect()
        }
    };
    let window = Window {
        start: input.start_time,
        end: input.end_time,
    };
    // Each stream is ordered by (timestamp, id), so its first `limit + 1` matches are all it
    // can contribute to this page.
    let mut found: Vec<FilteredLogEvent> = Vec::new();
    let mut keys: Vec<(i64, u64, usize)> = Vec::new();
    for stream in &streams {
        let events = stream.lock();
        for e in events
            .events
            .iter()
            .filter(|e| {
                window.contains(e.timestamp)
                    && after.is_none_or(|a| (e.timestamp, e.id) > (a.timestamp, a.id))
                    && pattern.matches(&e.message)
            })
            .take(limit + 1)
        {
            keys.push((e.timestamp, e.id, found.len()));
            found.push(FilteredLogEvent {
                log_stream_name: stream.name.clone(),
                timestamp: e.timestamp,
                message: e.text(),
                ingestion_time: e.ingestion_time,
                event_id: format!("{:056}", e.id),
            });
        }
    }
    keys.sort_unstable();
    let next_token = keys.get(limit).map(|_| {
        let (timestamp, id, _) = keys[limit - 1];
        FilterToken { timestamp, id }.render()
    });
    let mut slots: Vec<Option<FilteredLogEvent>> = found.into_iter().map(Some).collect();
    let events = keys
        .iter()
        .take(limit)
        .filter_map(|(_, _, i)| slots.get_mut(*i).and_then(Option::take))
        .collect();
    OperationOutput::aws_json(&FilterLogEventsOutput {
        events,
        searched_log_streams: streams
            .iter()
            .map(|s| SearchedLogStream {
                log_stream_name: s.name.clone(),
                searched_completely: true,
            })
            .collect(),
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(n: u64) -> Events {
        let mut events = Events::default();
        for i in 0..n {
            events.push(Event {
                timestamp: 1000 + i as i64,
                ingestion_time: 0,
                id: i,
                message: format!("m{i}"),
                newline: false,
            });
        }
        events
    }

    fn messages(picked: &[(u64, &Event)]) -> Vec<String> {
        picked.iter().map(|(_, e)| e.message.clone()).collect()
    }

    const ALL: Window = Window {
        start: None,
        end: None,
    };

    #[test]
    fn pages_forward_from_the_head_and_backward_from_the_tail() {
        let events = stream_of(5);
        let (picked, f, b) = page(&events, None, true, ALL, 2);
        assert_eq!(messages(&picked), ["m0", "m1"]);
        assert_eq!((f, b), (EventToken::Forward(2), EventToken::Backward(0)));
        let (picked, f, _) = page(&events, Some(f), true, ALL, 2);
        assert_eq!(messages(&picked), ["m2", "m3"]);
        let (picked, f, _) = page(&events, Some(f), true, ALL, 2);
        assert_eq!(messages(&picked), ["m4"]);
        assert_eq!(f, EventToken::Forward(5));
        let (picked, f2, b2) = page(&events, Some(f), true, ALL, 2);
        assert!(picked.is_empty());
        assert_eq!((f2, b2), (EventToken::Forward(5), EventToken::Backward(5)));

        let (picked, f, b) = page(&events, None, false, ALL, 2);
        assert_eq!(messages(&picked), ["m3", "m4"]);
        assert_eq!((f, b), (EventToken::Forward(5), EventToken::Backward(3)));
        let (picked, _, b) = page(&events, Some(b), false, ALL, 2);
        assert_eq!(messages(&picked), ["m1", "m2"]);
        let (picked, _, b) = page(&events, Some(b), false, ALL, 2);
        assert_eq!(messages(&picked), ["m0"]);
        assert_eq!(b, EventToken::Backward(0));
    }

    #[test]
    fn windows_and_evicted_positions() {
        let events = stream_of(5);
        let window = Window {
            start: Some(1001),
            end: Some(1003),
        };
        let (picked, _, _) = page(&events, None, true, window, 10);
        assert_eq!(messages(&picked), ["m1", "m2"]);
        let mut events = stream_of(crate::MAX_EVENTS_PER_STREAM as u64 + 2);
        assert_eq!(events.first_position, 2);
        let (picked, _, b) = page(&events, Some(EventToken::Forward(0)), true, ALL, 1);
        assert_eq!(messages(&picked), ["m2"]);
        assert_eq!(b, EventToken::Backward(2));
        events.events.clear();
    }
}
