//! `ImportApiKeys`: API keys from a CSV file (`POST /apikeys?mode=import&format=csv`).
//!
//! The file format is AWS's: a header row naming the columns, case-insensitively and in any
//! order; `Name` and `Key` are required, `Description`, `Enabled` and `UsagePlanIds` optional
//! (absent means an empty string, or `true` for `Enabled`), unknown columns are ignored. A
//! field may be wrapped in double or single quotes, which is how several usage plan ids share
//! one field. Keys are identified by value: importing a value that exists overwrites that key.
//!
//! A row that cannot be imported is a warning. With `failOnWarnings=true` any warning fails
//! the whole import (nothing is written); otherwise the other rows are imported and the
//! warnings are returned with the new ids.

use std::collections::BTreeSet;

use portico_core::{AwsError, ids};
use portico_model::apigateway::{ApiKey, ApiKeyIds, ImportApiKeysRequest};
use portico_model::binding::Operation;
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value};

use crate::persist::{KEYS_PARENT, KIND_APIKEY, KIND_USAGEPLAN, PLANS_PARENT, StoredPlan};
use crate::{Call, now_epoch_seconds};

/// Splits CSV text into records of fields. Quotes (`"` or `'`) open only at a field's start
/// and close at the same character; a doubled quote inside stands for itself.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quote: Option<char> = None;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                if chars.peek() == Some(&q) {
                    chars.next();
                    field.push(q);
                } else {
                    quote = None;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' if at_field_start => {
                quote = Some(c);
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    // Blank lines carry no key.
    records.retain(|r| r.iter().any(|f| !f.trim().is_empty()));
    records
}

/// One row of the file, checked.
#[derive(Debug, PartialEq)]
struct Row {
    name: String,
    value: String,
    description: String,
    enabled: bool,
    plans: Vec<String>,
}

/// Column positions from the header row.
struct Columns {
    name: usize,
    key: usize,
    description: Option<usize>,
    enabled: Option<usize>,
    plans: Option<usize>,
}

impl Columns {
    fn from_header(header: &[String]) -> Result<Self, AwsError> {
        let find = |wanted: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(wanted))
        };
        let (Some(name), Some(key)) = (find("name"), find("key")) else {
            return Err(AwsError::bad_request(
                "Invalid API key file: the header must name the Name and Key columns",
            ));
        };
        Ok(Self {
            name,
            key,
            description: find("description"),
            enabled: find("enabled"),
            plans: find("usageplanids"),
        })
    }

    /// The row as a key, or the warning that says why it cannot be one (`line` is 1-based).
    fn row(&self, record: &[String], line: usize) -> Result<Row, String> {
        let cell = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let name = cell(Some(self.name));
        let value = cell(Some(self.key));
        if !(20..=128).contains(&value.chars().count()) {
            return Err(format!(
                "Invalid API Key value at line {line}: it must be between 20 and 128 characters"
            ));
        }
        if name.chars().count() > 1024 {
            return Err(format!(
                "Invalid API Key name at line {line}: it cannot exceed 1024 characters"
            ));
        }
        let enabled = match cell(self.enabled).to_ascii_lowercase().as_str() {
            "" | "true" => true,
            "false" => false,
            other => {
                return Err(format!(
                    "Invalid Enabled value '{other}' at line {line}: must be true or false"
                ));
            }
        };
        let plans = cell(self.plans)
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(Row {
            name,
            value,
            description: cell(self.description),
            enabled,
            plans,
        })
    }
}

/// The rows of a file, and a warning for each row that cannot be imported.
fn read_rows(text: &str) -> Result<(Vec<Row>, Vec<String>), AwsError> {
    let records = parse_csv(text.trim_start_matches('\u{feff}'));
    let Some((header, body)) = records.split_first() else {
        return Err(AwsError::bad_request(
            "Invalid API key file: the file is empty",
        ));
    };
    let columns = Columns::from_header(header)?;
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for (i, record) in body.iter().enumerate() {
        // Line 1 is the header.
        match columns.row(record, i + 2) {
            Ok(row) => rows.push(row),
            Err(warning) => warnings.push(warning),
        }
    }
    Ok((rows, warnings))
}

pub(crate) async fn import_api_keys(
    call: &Call<'_>,
    op: &'static Operation,
    input: Map<String, Value>,
    body: &[u8],
) -> Result<OperationOutput, AwsError> {
    let req: ImportApiKeysRequest = decode(input)?;
    let format = req.format.unwrap_or_default();
    if format != "csv" {
        return Err(AwsError::bad_request(format!(
            "Invalid format specified: '{format}'. Must be one of: [csv]"
        )));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| AwsError::bad_request("Invalid API key file: the file is not UTF-8 text"))?;
    let (rows, mut warnings) = read_rows(text)?;

    let _guard = call.service.writes.lock().await;
    let mut plans: Vec<StoredPlan> = call.list_children(KIND_USAGEPLAN, PLANS_PARENT).await?;
    let known_plans: BTreeSet<String> = plans.iter().filter_map(|p| p.plan.id.clone()).collect();
    let mut accepted = Vec::new();
    for row in rows {
        match row.plans.iter().find(|p| !known_plans.contains(*p)) {
            Some(missing) => warnings.push(format!(
                "Invalid Usage Plan ID specified: {missing} (API key {})",
                row.name
            )),
            None => accepted.push(row),
        }
    }
    if req.fail_on_warnings == Some(true) && !warnings.is_empty() {
        return Err(AwsError::bad_request(warnings.join("; ")));
    }

    let mut existing: Vec<ApiKey> = call.list_children(KIND_APIKEY, KEYS_PARENT).await?;
    let now = now_epoch_seconds();
    let mut ids_out = Vec::new();
    let mut touched_plans = BTreeSet::new();
    for row in accepted {
        // The same value imported again overwrites the key that has it (AWS's rule), and a
        // value repeated within the file is one key, written last by its last row.
        let key = match existing
            .iter_mut()
            .find(|k| k.value.as_deref() == Some(row.value.as_str()))
        {
            Some(key) => {
                key.name = Some(row.name);
                key.description = Some(row.description);
                key.enabled = Some(row.enabled);
                key.last_updated_date = Some(now);
                key.clone()
            }
            None => {
                let key = ApiKey {
                    id: Some(ids::api_id()),
                    value: Some(row.value),
                    name: Some(row.name),
                    customer_id: None,
                    description: Some(row.description),
                    enabled: Some(row.enabled),
                    created_date: Some(now),
                    last_updated_date: Some(now),
                    stage_keys: Some(Vec::new()),
                    tags: None,
                };
                existing.push(key.clone());
                key
            }
        };
        let id = key.id.clone().unwrap_or_default();
        call.put_child(KIND_APIKEY, &id, KEYS_PARENT, &key).await?;
        for plan in plans.iter_mut() {
            let plan_id = plan.plan.id.clone().unwrap_or_default();
            if row.plans.contains(&plan_id) && !plan.keys.contains(&id) {
                plan.keys.push(id.clone());
                touched_plans.insert(plan_id);
            }
        }
        if !ids_out.contains(&id) {
            ids_out.push(id);
        }
    }

    let mut stages = BTreeSet::new();
    for plan in plans.iter().filter(|p| {
        p.plan
            .id
            .as_ref()
            .is_some_and(|id| touched_plans.contains(id))
    }) {
        let plan_id = plan.plan.id.clone().unwrap_or_default();
        call.put_child(KIND_USAGEPLAN, &plan_id, PLANS_PARENT, plan)
            .await?;
        stages.extend(
            plan.plan
                .api_stages
                .iter()
                .flatten()
                .filter_map(|s| Some((s.api_id.clone()?, s.stage.clone()?))),
        );
    }
    // Every stage of a plan that gained keys serves them from now on.
    for (api_id, stage_name) in stages {
        call.republish_stage(&api_id, &stage_name).await?;
    }
    OperationOutput::json(
        op,
        &ApiKeyIds {
            ids: Some(ids_out),
            warnings: Some(warnings),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_quotes_and_lines() {
        let records = parse_csv(
            "Enabled,Name,key,UsageplanIds\r\ntrue,First,abc,\"p1,p2\"\n\n'x''y',\"a\"\"b\",,'q,r'",
        );
        assert_eq!(
            records,
            vec![
                vec!["Enabled", "Name", "key", "UsageplanIds"],
                vec!["true", "First", "abc", "p1,p2"],
                vec!["x'y", "a\"b", "", "q,r"],
            ]
        );
    }

    #[test]
    fn rows_checked_with_warnings() {
        let text = "key,NAME,description,enabled,usagePlanIds,Other\n\
            apikey1234abcdefghij0123456789,First,An imported key,FALSE,\"p1, p2\",x\n\
            short,Second\n\
            apikey1234abcdefghij0123456789zz,Third,,maybe\n\
            apikey1234abcdefghij0123456789yy,Fourth\n";
        let (rows, warnings) = read_rows(text).unwrap();
        assert_eq!(
            rows,
            vec![
                Row {
                    name: "First".into(),
                    value: "apikey1234abcdefghij0123456789".into(),
                    description: "An imported key".into(),
                    enabled: false,
                    plans: vec!["p1".into(), "p2".into()],
                },
                Row {
                    name: "Fourth".into(),
                    value: "apikey1234abcdefghij0123456789yy".into(),
                    description: String::new(),
                    enabled: true,
                    plans: vec![],
                },
            ]
        );
        assert_eq!(
            warnings,
            vec![
                "Invalid API Key value at line 3: it must be between 20 and 128 characters",
                "Invalid Enabled value 'maybe' at line 4: must be true or false",
            ]
        );
        assert_eq!(
            read_rows("Name,Description\nx,y").unwrap_err().message,
            "Invalid API key file: the header must name the Name and Key columns"
        );
        assert_eq!(
            read_rows("\n\n").unwrap_err().message,
            "Invalid API key file: the file is empty"
        );
    }
}
