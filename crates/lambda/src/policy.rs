//! Resource policies: AddPermission, GetPolicy, RemovePermission, and their evaluation for
//! invocations made on a service's behalf.
//!
//! Enforcement rule (a documented deviation): API Gateway skips the resource policy when the
//! integration has a `credentials` role, and the data plane does not tell us whether it has
//! one. So an invocation that carries a `source_arn` is checked only when the function has at
//! least one policy statement: a function nobody granted anything is invocable (the
//! credentials-role set-up, as in the seed walkthrough), and once grants exist, only what they
//! allow is.

use std::sync::Arc;

use portico_core::{AwsError, Scope};
use portico_model::binding::Operation;
use portico_model::lambda::{
    AddPermissionRequest, AddPermissionResponse, GetPolicyRequest, GetPolicyResponse,
    RemovePermissionRequest,
};
use portico_protocol::{OperationOutput, decode};
use serde_json::{Map, Value, json};

use crate::Lambda;
use crate::function::{not_found, resolve};
use crate::snapshot::mutate;
use crate::state::{Policy, StoredFunction, is_version_number};

fn policy_revision_mismatch() -> AwsError {
    AwsError::new(
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id",
    )
}

fn no_policy() -> AwsError {
    AwsError::resource_not_found("No policy is associated with the given resource.")
}

/// The policy key of a qualifier: `""` for the function itself.
fn key_of(qualifier: Option<&str>) -> String {
    match qualifier {
        None | Some("$LATEST") => String::new(),
        Some(q) => q.to_owned(),
    }
}

fn required(value: Option<String>, member: &str) -> Result<String, AwsError> {
    value.ok_or_else(|| {
        AwsError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn check_statement_id(sid: &str) -> Result<(), AwsError> {
    let valid = !sid.is_empty()
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if sid.len() > 100 {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: Member must have length less than or equal to 100"
        )));
    }
    if !valid {
        return Err(AwsError::validation(format!(
            "1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )));
    }
    Ok(())
}

fn check_action(action: &str) -> Result<(), AwsError> {
    let valid = action == "*"
        || action == "lambda:*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphabetic()));
    if valid {
        Ok(())
    } else {
        Err(AwsError::validation(format!(
            "1 validation error detected: Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
        )))
    }
}

/// The `Principal` element Lambda writes for an AddPermission `Principal`.
fn principal_element(principal: &str) -> Value {
    if principal == "*" {
        Value::from("*")
    } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{principal}:root")})
    } else if principal.starts_with("arn:") {
        json!({"AWS": principal})
    } else {
        json!({"Service": principal})
    }
}

/// The statement AddPermission stores and answers with.
fn statement(
    req: &AddPermissionRequest,
    sid: &str,
    action: &str,
    principal: &str,
    resource: &str,
) -> Value {
    let mut statement = Map::new();
    statement.insert("Sid".into(), Value::from(sid));
    statement.insert("Effect".into(), Value::from("Allow"));
    statement.insert("Principal".into(), principal_element(principal));
    statement.insert("Action".into(), Value::from(action));
    statement.insert("Resource".into(), Value::from(resource));
    let mut condition = Map::new();
    if let Some(arn) = req.source_arn.as_deref() {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    let mut equals = Map::new();
    if let Some(account) = req.source_account.as_deref() {
        equals.insert("AWS:SourceAccount".into(), Value::from(account));
    }
    if let Some(token) = req.event_source_token.as_deref() {
        equals.insert("lambda:EventSourceToken".into(), Value::from(token));
    }
    if let Some(org) = req.principal_org_id.as_deref() {
        equals.insert("aws:PrincipalOrgID".into(), Value::from(org));
    }
    if let Some(auth) = req.function_url_auth_type.as_deref() {
        equals.insert("lambda:FunctionUrlAuthType".into(), Value::from(auth));
    }
    if !equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(equals));
    }
    if !condition.is_empty() {
        statement.insert("Condition".into(), Value::Object(condition));
    }
    Value::Object(statement)
}

/// The qualifier must name an existing version or alias (policies on `$LATEST` do not exist).
fn check_qualifier(
    scope: &Scope,
    stored: &StoredFunction,
    name: &str,
    qualifier: Option<&str>,
) -> Result<(), AwsError> {
    match qualifier {
        None => Ok(()),
        Some(q) if is_version_number(q) && stored.version(q).is_some() => Ok(()),
        Some(q) if stored.aliases.contains_key(q) => Ok(()),
        Some(q) => Err(not_found(scope, name, Some(q))),
    }
}

pub(crate) async fn add(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: AddPermissionRequest = decode(input)?;
    let (scope, reference) = resolve(scope, req.function_name.clone(), req.qualifier.as_deref())?;
    let qualifier = req.qualifier.clone().or(reference.qualifier);
    let sid = required(req.statement_id.clone(), "statementId")?;
    check_statement_id(&sid)?;
    let action = required(req.action.clone(), "action")?;
    check_action(&action)?;
    let principal = required(req.principal.clone(), "principal")?;
    if qualifier.as_deref() == Some("$LATEST") {
        return Err(AwsError::invalid_parameter_value(
            "We currently do not support adding policies for $LATEST.",
        ));
    }
    let name = reference.name;
    let (text, _) = mutate(lambda, &scope, &name, |stored| {
        check_qualifier(&scope, stored, &name, qualifier.as_deref())?;
        let key = key_of(qualifier.as_deref());
        if let Some(given) = req.revision_id.as_deref()
            && stored.revision_of(&key).as_deref() != Some(given)
        {
            return Err(policy_revision_mismatch());
        }
        let base = stored.configuration.function_arn.clone().unwrap_or_default();
        let resource = match qualifier.as_deref() {
            Some(q) => format!("{base}:{q}"),
            None => base,
        };
        let policy = stored.policies.entry(key.clone()).or_default();
        if policy
            .statements
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid.as_str()))
        {
            return Err(AwsError::resource_conflict(format!(
                "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
            )));
        }
        let statement = statement(&req, &sid, &action, &principal, &resource);
        let text = statement.to_string();
        policy.statements.push(statement);
        stored.bump_revision(&key);
        Ok(text)
    })
    .await?;
    OperationOutput::json(
        op,
        &AddPermissionResponse {
            statement: Some(text),
        },
    )
}

/// The policy document as GetPolicy renders it.
fn document(policy: &Policy) -> String {
    json!({"Version": "2012-10-17", "Id": "default", "Statement": policy.statements}).to_string()
}

pub(crate) async fn get(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: GetPolicyRequest = decode(input)?;
    let (scope, reference) = resolve(scope, req.function_name, req.qualifier.as_deref())?;
    let qualifier = req.qualifier.or(reference.qualifier);
    let function = lambda
        .registry
        .get(&scope.account_id, &scope.region, &reference.name)
        .ok_or_else(|| not_found(&scope, &reference.name, qualifier.as_deref()))?;
    if qualifier.as_deref() != Some("$LATEST") {
        check_qualifier(
            &scope,
            &function.stored,
            &reference.name,
            qualifier.as_deref(),
        )?;
    }
    let key = key_of(qualifier.as_deref());
    let policy = function
        .stored
        .policies
        .get(&key)
        .filter(|p| !p.statements.is_empty())
        .ok_or_else(no_policy)?;
    OperationOutput::json(
        op,
        &GetPolicyResponse {
            policy: Some(document(policy)),
            revision_id: function.stored.revision_of(&key),
        },
    )
}

pub(crate) async fn remove(
    lambda: &Arc<Lambda>,
    scope: &Scope,
    op: &'static Operation,
    input: Map<String, Value>,
) -> Result<OperationOutput, AwsError> {
    let req: RemovePermissionRequest = decode(input)?;
    let (scope, reference) = resolve(scope, req.function_name, req.qualifier.as_deref())?;
    let qualifier = req.qualifier.or(reference.qualifier);
    let sid = required(req.statement_id, "statementId")?;
    let name = reference.name;
    mutate(lambda, &scope, &name, |stored| {
        if qualifier.as_deref() != Some("$LATEST") {
            check_qualifier(&scope, stored, &name, qualifier.as_deref())?;
        }
        let key = key_of(qualifier.as_deref());
        if let Some(given) = req.revision_id.as_deref()
            && stored.revision_of(&key).as_deref() != Some(given)
        {
            return Err(policy_revision_mismatch());
        }
        let policy = stored
            .policies
            .get_mut(&key)
            .filter(|p| !p.statements.is_empty())
            .ok_or_else(no_policy)?;
        let index = policy
            .statements
            .iter()
            .position(|s| s.get("Sid").and_then(Value::as_str) == Some(sid.as_str()))
            .ok_or_else(|| {
                AwsError::resource_not_found(format!(
                    "Statement {sid} is not found in resource policy."
                ))
            })?;
        policy.statements.remove(index);
        if policy.statements.is_empty() {
            stored.policies.remove(&key);
        }
        stored.bump_revision(&key);
        Ok(())
    })
    .await?;
    Ok(OperationOutput {
        status: 204,
        ..OperationOutput::empty(op)
    })
}

/// `*` matches any run of characters (including `/`), `?` exactly one; case-sensitive, as
/// IAM's `ArnLike` and `StringLike` are.
pub(crate) fn wildcard_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn principal_allows(principal: Option<&Value>, service: &str) -> bool {
    match principal {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => match map.get("Service") {
            Some(Value::String(s)) => s == service,
            Some(Value::Array(list)) => list.iter().any(|s| s.as_str() == Some(service)),
            _ => false,
        },
        _ => false,
    }
}

fn action_allows(action: Option<&Value>) -> bool {
    matches!(
        action.and_then(Value::as_str),
        Some("lambda:InvokeFunction" | "lambda:*" | "*")
    )
}

/// Whether every condition holds for a call from `source_arn`; an unknown operator or key
/// never holds.
fn conditions_hold(condition: Option<&Value>, source_arn: &str) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return condition.is_none();
    };
    let source_account = source_arn.split(':').nth(4).unwrap_or_default();
    operators.iter().all(|(operator, keys)| {
        let Value::Object(keys) = keys else {
            return false;
        };
        keys.iter().all(|(key, expected)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourcearn" => source_arn,
                "aws:sourceaccount" => source_account,
                _ => return false,
            };
            let Some(expected) = expected.as_str() else {
                return false;
            };
            match operator.as_str() {
                "ArnLike" | "StringLike" => wildcard_match(expected, actual),
                "ArnEquals" | "StringEquals" => expected == actual,
                _ => false,
            }
        })
    })
}

/// Whether a call made by API Gateway on behalf of `source_arn` may invoke the function
/// through `policy_key` (see the module documentation for when this is asked).
pub(crate) fn allows(stored: &StoredFunction, policy_key: &str, source_arn: &str) -> bool {
    let key = key_of(Some(policy_key).filter(|k| !k.is_empty()));
    stored.policies.get(&key).is_some_and(|policy| {
        policy.statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && principal_allows(s.get("Principal"), "apigateway.amazonaws.com")
                && action_allows(s.get("Action"))
                && conditions_hold(s.get("Condition"), source_arn)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cross_slashes() {
        assert!(wildcard_match(
            "arn:aws:execute-api:us-east-1:1:abc/*/GET/pets",
            "arn:aws:execute-api:us-east-1:1:abc/prod/GET/pets"
        ));
        assert!(wildcard_match("abc/*", "abc/prod/GET/a/b"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("abc/*/GET/pets", "abc/prod/POST/pets"));
        assert!(!wildcard_match("ABC/*", "abc/x"));
        assert!(wildcard_match("*", ""));
    }

    fn stored_with(statement: Value) -> StoredFunction {
        let mut stored = StoredFunction::default();
        stored.policies.insert(
            String::new(),
            Policy {
                statements: vec![statement],
            },
        );
        stored
    }

    #[test]
    fn statements_as_lambda_writes_and_evaluates_them() {
        let req = AddPermissionRequest {
            source_arn: Some("arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets".into()),
            source_account: Some("123456789012".into()),
            ..Default::default()
        };
        let s = statement(
            &req,
            "apigw-1",
            "lambda:InvokeFunction",
            "apigateway.amazonaws.com",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
        );
        assert_eq!(
            s.to_string(),
            r#"{"Sid":"apigw-1","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/pets"},"StringEquals":{"AWS:SourceAccount":"123456789012"}}}"#
        );
        let stored = stored_with(s);
        assert!(allows(
            &stored,
            "",
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets"
        ));
        assert!(!allows(
            &stored,
            "",
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/POST/pets"
        ));
        assert!(!allows(
            &stored,
            "live",
            "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets"
        ));
        assert_eq!(
            principal_element("123456789012"),
            json!({"AWS": "arn:aws:iam::123456789012:root"})
        );
        assert_eq!(principal_element("*"), json!("*"));
    }

    #[test]
    fn other_principals_and_actions_do_not_allow_the_gateway() {
        let stored = stored_with(
            json!({"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"}),
        );
        assert!(!allows(
            &stored,
            "",
            "arn:aws:execute-api:us-east-1:1:a/b/GET/"
        ));
        let stored =
            stored_with(json!({"Effect":"Allow","Principal":"*","Action":"lambda:GetFunction"}));
        assert!(!allows(
            &stored,
            "",
            "arn:aws:execute-api:us-east-1:1:a/b/GET/"
        ));
        let stored = stored_with(json!({"Effect":"Allow","Principal":"*","Action":"lambda:*"}));
        assert!(allows(
            &stored,
            "$LATEST",
            "arn:aws:execute-api:us-east-1:1:a/b/GET/"
        ));
    }
}
