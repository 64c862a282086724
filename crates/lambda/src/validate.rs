//! CreateFunction's checks, worded as Lambda words them.

use std::collections::BTreeMap;

use portico_core::AwsError;

/// Runtimes Portico can run.
pub(crate) const SUPPORTED_RUNTIMES: &[&str] = &[
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "provided",
    "provided.al2",
    "provided.al2023",
];

/// Runtimes Lambda no longer accepts for new functions.
const DEPRECATED_RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "ruby2.5",
    "ruby2.7",
    "go1.x",
];

/// Every runtime id the model's enum lists (for the constraint message).
const RUNTIME_ENUM: &str = "[nodejs, nodejs4.3, nodejs6.10, nodejs8.10, nodejs10.x, nodejs12.x, nodejs14.x, nodejs16.x, java8, java8.al2, java11, python2.7, python3.6, python3.7, python3.8, python3.9, dotnetcore1.0, dotnetcore2.0, dotnetcore2.1, dotnetcore3.1, dotnet6, dotnet8, nodejs4.3-edge, go1.x, ruby2.5, ruby2.7, provided, provided.al2, nodejs18.x, python3.10, java17, ruby3.2, ruby3.3, ruby3.4, python3.11, nodejs20.x, provided.al2023, python3.12, java21, python3.13, nodejs22.x, nodejs24.x, python3.14, java25, dotnet10]";

const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";

/// Names Lambda sets itself and refuses in `Environment.Variables`.
const RESERVED_VARIABLES: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    AwsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {rule}"
    ))
}

pub(crate) fn check_runtime(runtime: &str) -> Result<(), AwsError> {
    if DEPRECATED_RUNTIMES.contains(&runtime) {
        return Err(AwsError::invalid_parameter_value(format!(
            "The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
        )));
    }
    if SUPPORTED_RUNTIMES.contains(&runtime) {
        return Ok(());
    }
    if RUNTIME_ENUM.contains(&format!(" {runtime},"))
        || RUNTIME_ENUM.contains(&format!("[{runtime},"))
    {
        return Err(AwsError::invalid_parameter_value(format!(
            "Portico cannot run the runtime {runtime}: it runs nodejs18.x-nodejs24.x, python3.9-python3.14 and provided runtimes."
        )));
    }
    Err(AwsError::invalid_parameter_value(format!(
        "Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: {RUNTIME_ENUM} or be a valid ARN"
    )))
}

pub(crate) fn check_role(role: &str) -> Result<(), AwsError> {
    let valid = role
        .strip_prefix("arn:")
        .and_then(|r| r.split_once(":iam::"))
        .filter(|(partition, _)| partition.is_empty() || partition.starts_with("aws"))
        .and_then(|(_, rest)| rest.split_once(":role"))
        .is_some_and(|(account, name)| {
            account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && !name.trim_start_matches('/').is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
        });
    if valid {
        Ok(())
    } else {
        Err(constraint(
            role,
            "role",
            &format!("Member must satisfy regular expression pattern: {ROLE_PATTERN}"),
        ))
    }
}

pub(crate) fn check_timeout(timeout: i32) -> Result<(), AwsError> {
    if timeout < 1 {
        Err(constraint(
            &timeout.to_string(),
            "timeout",
            "Member must have value greater than or equal to 1",
        ))
    } else if timeout > 900 {
        Err(constraint(
            &timeout.to_string(),
            "timeout",
            "Member must have value less than or equal to 900",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_memory(memory: i32) -> Result<(), AwsError> {
    if memory < 128 {
        Err(constraint(
            &memory.to_string(),
            "memorySize",
            "Member must have value greater than or equal to 128",
        ))
    } else if memory > 10240 {
        Err(constraint(
            &memory.to_string(),
            "memorySize",
            "Member must have value less than or equal to 10240",
        ))
    } else {
        Ok(())
    }
}

pub(crate) fn check_environment(variables: &BTreeMap<String, String>) -> Result<(), AwsError> {
    let reserved: Vec<&str> = variables
        .keys()
        .map(String::as_str)
        .filter(|k| RESERVED_VARIABLES.contains(k))
        .collect();
    if !reserved.is_empty() {
        return Err(AwsError::invalid_parameter_value(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    for key in variables.keys() {
        let mut chars = key.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.clone().next().is_some()
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(constraint(
                key,
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+",
            ));
        }
    }
    let measured = serde_json::to_string(variables).unwrap_or_default();
    if measured.len() > 4096 {
        return Err(AwsError::invalid_parameter_value(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes() {
        assert!(check_runtime("nodejs20.x").is_ok());
        assert!(check_runtime("python3.12").is_ok());
        let e = check_runtime("python3.7").unwrap_err();
        assert_eq!(e.code, "InvalidParameterValueException");
        assert!(
            e.message
                .starts_with("The runtime parameter of python3.7 is no longer supported")
        );
        let e = check_runtime("cobol").unwrap_err();
        assert!(
            e.message
                .starts_with("Value cobol at 'runtime' failed to satisfy constraint")
        );
    }

    #[test]
    fn roles_and_limits() {
        assert!(check_role("arn:aws:iam::123456789012:role/lambda-role").is_ok());
        assert!(check_role("arn:aws:iam::123456789012:role/service-role/x").is_ok());
        let e = check_role("lambda-role").unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(check_timeout(900).is_ok());
        assert_eq!(
            check_timeout(901).unwrap_err().message,
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        );
        assert!(check_memory(127).is_err());
    }

    #[test]
    fn environment_variables() {
        let mut vars = BTreeMap::new();
        vars.insert("GREETING".to_owned(), "hi".to_owned());
        assert!(check_environment(&vars).is_ok());
        vars.insert("AWS_REGION".to_owned(), "x".to_owned());
        assert!(
            check_environment(&vars)
                .unwrap_err()
                .message
                .ends_with("Reserved keys used in this request: AWS_REGION")
        );
    }
}
