//! The in-memory log data: regions, groups, streams and their events.
//!
//! Locks are fine-grained so that appending function output never contends with much: the
//! region list and a region's group map are read-locked to find a group (write-locked only to
//! create one), a group's stream map likewise, and a stream's events sit behind their own
//! mutex. No lock is ever held across IO or an await.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Events kept per stream; the oldest are dropped beyond it. CloudWatch keeps events per the
/// group's retention (forever by default); Portico keeps a bounded window in memory instead,
/// small enough that a busy function's environments (one stream each, three lines or more per
/// invocation) cost the server a few hundred kilobytes each, not megabytes.
pub const MAX_EVENTS_PER_STREAM: usize = 2_000;
/// Message bytes kept per stream (the oldest events are dropped beyond it).
pub const MAX_BYTES_PER_STREAM: usize = 1024 * 1024;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub timestamp: i64,
    pub ingestion_time: i64,
    /// Unique across the server, increasing with ingestion: `eventId` and the tie-break of
    /// interleaved results.
    pub id: u64,
    pub message: String,
    /// A line of function output: Lambda sends the line with its newline, so the message
    /// CloudWatch answers with ends in `\n`. Kept as a flag so that appending a line never
    /// grows (reallocates) its string on the invoke path.
    pub newline: bool,
}

impl Event {
    /// The message as answered.
    pub fn text(&self) -> String {
        if !self.newline {
            return self.message.clone();
        }
        let mut text = String::with_capacity(self.message.len() + 1);
        text.push_str(&self.message);
        text.push('\n');
        text
    }
}

/// A stream's events, oldest timestamp first, with the figures DescribeLogStreams reports.
#[derive(Debug, Default)]
pub struct Events {
    pub events: VecDeque<Event>,
    /// Position of `events[0]` in the stream since it was created; positions are what
    /// GetLogEvents tokens name, so they stay valid when old events are dropped.
    pub first_position: u64,
    pub bytes: usize,
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    /// Counts PutLogEvents calls, for `nextSequenceToken` / `uploadSequenceToken`.
    pub uploads: u64,
}

impl Events {
    /// The position one past the newest event.
    pub fn end_position(&self) -> u64 {
        self.first_position + self.events.len() as u64
    }

    /// Adds one event in timestamp order (ties keep arrival order) and evicts beyond the caps.
    pub fn push(&mut self, event: Event) {
        self.bytes += event.message.len();
        self.first_event_timestamp = Some(
            self.first_event_timestamp
                .map_or(event.timestamp, |t| t.min(event.timestamp)),
        );
        self.last_event_timestamp = Some(
            self.last_event_timestamp
                .map_or(event.timestamp, |t| t.max(event.timestamp)),
        );
        self.last_ingestion_time = Some(event.ingestion_time);
        // Function output always arrives in order; only PutLogEvents can backdate.
        if self
            .events
            .back()
            .is_none_or(|last| last.timestamp <= event.timestamp)
        {
            self.events.push_back(event);
        } else {
            let at = self
                .events
                .partition_point(|e| e.timestamp <= event.timestamp);
            self.events.insert(at, event);
        }
        while self.events.len() > MAX_EVENTS_PER_STREAM
            || (self.bytes > MAX_BYTES_PER_STREAM && self.events.len() > 1)
        {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= old.message.len();
                self.first_position += 1;
            }
        }
    }
}

/// One log stream.
#[derive(Debug)]
pub struct Stream {
    pub name: String,
    pub creation_time: i64,
    pub events: Mutex<Events>,
}

impl Stream {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Events> {
        // A panic while appending leaves the events consistent enough to keep serving.
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One log group.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub creation_time: i64,
    pub streams: RwLock<BTreeMap<String, Arc<Stream>>>,
}

impl Group {
    pub fn stream(&self, name: &str) -> Option<Arc<Stream>> {
        read(&self.streams).get(name).cloned()
    }

    /// Creates the stream unless it exists; `None` when it did.
    pub fn create_stream(&self, name: &str, now: i64) -> Option<Arc<Stream>> {
        let mut streams = write(&self.streams);
        if streams.contains_key(name) {
            return None;
        }
        let stream = Arc::new(Stream {
            name: name.to_owned(),
            creation_time: now,
            events: Mutex::new(Events::default()),
        });
        streams.insert(name.to_owned(), stream.clone());
        Some(stream)
    }

    /// The stream, created if missing.
    pub fn stream_or_create(&self, name: &str, now: i64) -> Arc<Stream> {
        if let Some(stream) = self.stream(name) {
            return stream;
        }
        match self.create_stream(name, now) {
            Some(stream) => stream,
            // Created by someone else between the two looks.
            None => self.stream(name).unwrap_or_else(|| {
                Arc::new(Stream {
                    name: name.to_owned(),
                    creation_time: now,
                    events: Mutex::new(Events::default()),
                })
            }),
        }
    }

    pub fn streams(&self) -> Vec<Arc<Stream>> {
        read(&self.streams).values().cloned().collect()
    }

    pub fn remove_stream(&self, name: &str) -> bool {
        write(&self.streams).remove(name).is_some()
    }
}

/// The groups of one account in one region, by name (listed in name order, as CloudWatch does).
#[derive(Debug)]
pub struct Region {
    pub account_id: String,
    pub region: String,
    pub groups: RwLock<BTreeMap<String, Arc<Group>>>,
}

impl Region {
    pub fn empty(account_id: &str, region: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            groups: RwLock::new(BTreeMap::new()),
        }
    }

    pub fn group(&self, name: &str) -> Option<Arc<Group>> {
        read(&self.groups).get(name).cloned()
    }

    /// Creates the group unless it exists; `None` when it did.
    pub fn create_group(&self, name: &str, now: i64) -> Option<Arc<Group>> {
        let mut groups = write(&self.groups);
        if groups.contains_key(name) {
            return None;
        }
        let group = Arc::new(Group {
            name: name.to_owned(),
            creation_time: now,
            streams: RwLock::new(BTreeMap::new()),
        });
        groups.insert(name.to_owned(), group.clone());
        Some(group)
    }

    pub fn group_or_create(&self, name: &str, now: i64) -> Arc<Group> {
        if let Some(group) = self.group(name) {
            return group;
        }
        match self.create_group(name, now) {
            Some(group) => group,
            None => self.group(name).unwrap_or_else(|| {
                Arc::new(Group {
                    name: name.to_owned(),
                    creation_time: now,
                    streams: RwLock::new(BTreeMap::new()),
                })
            }),
        }
    }

    pub fn remove_group(&self, name: &str) -> bool {
        write(&self.groups).remove(name).is_some()
    }

    /// Groups whose name starts with `prefix` and sorts after `after`, in name order.
    pub fn groups_from(&self, prefix: &str, after: Option<&str>) -> Vec<Arc<Group>> {
        let groups = read(&self.groups);
        groups
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(name, _)| name.starts_with(prefix))
            .filter(|(name, _)| after.is_none_or(|a| name.as_str() > a))
            .map(|(_, g)| g.clone())
            .collect()
    }
}

/// Every region's log data, and the event id counter.
#[derive(Debug, Default)]
pub struct Store {
    /// A handful of (account, region) pairs at most: a linear scan finds one without building
    /// a key.
    regions: RwLock<Vec<Arc<Region>>>,
    next_event_id: AtomicU64,
}

impl Store {
    pub fn region(&self, account_id: &str, region: &str) -> Option<Arc<Region>> {
        read(&self.regions)
            .iter()
            .find(|r| r.account_id == account_id && r.region == region)
            .cloned()
    }

    pub fn region_or_create(&self, account_id: &str, region: &str) -> Arc<Region> {
        if let Some(found) = self.region(account_id, region) {
            return found;
        }
        let mut regions = write(&self.regions);
        if let Some(found) = regions
            .iter()
            .find(|r| r.account_id == account_id && r.region == region)
        {
            return found.clone();
        }
        let created = Arc::new(Region::empty(account_id, region));
        regions.push(created.clone());
        created
    }

    pub fn event_id(&self) -> u64 {
        self.next_event_id.fetch_add(1, Ordering::Relaxed)
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp: i64, id: u64, message: &str) -> Event {
        Event {
            timestamp,
            ingestion_time: 0,
            id,
            message: message.to_owned(),
            newline: false,
        }
    }

    #[test]
    fn events_keep_timestamp_order_and_the_newest_window() {
        let mut events = Events::default();
        events.push(event(10, 0, "a"));
        events.push(event(30, 1, "c"));
        events.push(event(20, 2, "b"));
        let messages: Vec<_> = events.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a", "b", "c"]);
        assert_eq!(events.first_event_timestamp, Some(10));
        assert_eq!(events.last_event_timestamp, Some(30));
        for i in 0..MAX_EVENTS_PER_STREAM as u64 {
            events.push(event(100, i + 3, "x"));
        }
        assert_eq!(events.events.len(), MAX_EVENTS_PER_STREAM);
        assert_eq!(events.first_position, 3);
        assert_eq!(events.end_position(), MAX_EVENTS_PER_STREAM as u64 + 3);
        assert_eq!(events.bytes, MAX_EVENTS_PER_STREAM);
    }

    #[test]
    fn groups_are_listed_by_prefix_in_name_order() {
        let region = Region::empty("1", "r");
        for name in ["/aws/lambda/b", "/aws/lambda/a", "/other", "/aws/lambdax"] {
            assert!(region.create_group(name, 0).is_some());
        }
        assert!(region.create_group("/other", 0).is_none());
        let names = |v: Vec<Arc<Group>>| v.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(region.groups_from("/aws/lambda/", None)),
            ["/aws/lambda/a", "/aws/lambda/b"]
        );
        assert_eq!(
            names(region.groups_from("", Some("/aws/lambda/b"))),
            ["/aws/lambdax", "/other"]
        );
    }
}
