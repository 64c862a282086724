//! ARNs Portico reads and writes: Lambda function ARNs, the forms a `FunctionName` may take,
//! and API Gateway's Lambda integration URIs.

/// A function reference resolved from a name, a partial ARN or a full ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    /// Region named in a full ARN; `None` when the caller's region applies.
    pub region: Option<String>,
    /// Account named in a (partial) ARN; `None` when the caller's account applies.
    pub account_id: Option<String>,
    /// Version or alias given after the name (`name:qualifier`).
    pub qualifier: Option<String>,
}

/// Why a `FunctionName` is not acceptable; the messages are AWS's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionNameError {
    /// Fails the model's pattern.
    Pattern,
    /// Longer than AWS allows for the form used.
    TooLong,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_qualifier(q: &str) -> bool {
    !q.is_empty() && q.len() <= 128 && (q == "$LATEST" || q.chars().all(is_name_char))
}

/// Builds `arn:aws:lambda:{region}:{account}:function:{name}`.
pub fn function_arn(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account_id}:function:{name}")
}

/// Parses a `FunctionName` as Lambda accepts it: `name`, `name:qualifier`,
/// `{account}:function:name[:qualifier]` or `arn:aws:lambda:{region}:{account}:function:name[:qualifier]`.
pub fn parse_function_name(input: &str) -> Result<FunctionRef, FunctionNameError> {
    if input.len() > 170 {
        return Err(FunctionNameError::TooLong);
    }
    let parts: Vec<&str> = input.split(':').collect();
    let (region, account_id, rest): (Option<&str>, Option<&str>, &[&str]) = match parts.as_slice() {
        [
            "arn",
            partition,
            "lambda",
            region,
            account,
            "function",
            rest @ ..,
        ] if partition.starts_with("aws") => (Some(*region), Some(*account), rest),
        [account, "function", rest @ ..] => (None, Some(*account), rest),
        rest => (None, None, rest),
    };
    let (name, qualifier) = match rest {
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        _ => return Err(FunctionNameError::Pattern),
    };
    if name.is_empty() || !name.chars().all(is_name_char) {
        return Err(FunctionNameError::Pattern);
    }
    if name.len() > 64 {
        return Err(FunctionNameError::TooLong);
    }
    if let Some(account) = account_id
        && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(FunctionNameError::Pattern);
    }
    if let Some(region) = region
        && (region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return Err(FunctionNameError::Pattern);
    }
    if let Some(q) = qualifier
        && !is_qualifier(q)
    {
        return Err(FunctionNameError::Pattern);
    }
    Ok(FunctionRef {
        name: name.to_owned(),
        region: region.map(str::to_owned),
        account_id: account_id.map(str::to_owned),
        qualifier: qualifier.map(str::to_owned),
    })
}

/// A Lambda target named by an API Gateway integration URI
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaIntegrationTarget {
    /// The region of the `apigateway` ARN (where the Lambda endpoint is called).
    pub region: String,
    /// The function as named inside the URI.
    pub function: FunctionRef,
}

/// Parses a Lambda integration URI; `None` when it is not one.
pub fn parse_lambda_integration_uri(uri: &str) -> Option<LambdaIntegrationTarget> {
    let rest = uri.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    let rest = rest.strip_prefix("apigateway:")?;
    let (region, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("lambda:path/")?;
    let rest = rest
        .strip_prefix("2015-03-31/functions/")
        .or_else(|| rest.strip_prefix("/2015-03-31/functions/"))?;
    let function = rest.strip_suffix("/invocations")?;
    let function = parse_function_name(function).ok()?;
    Some(LambdaIntegrationTarget {
        region: region.to_owned(),
        function,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_function_name_form() {
        assert_eq!(
            parse_function_name("HelloWorld").unwrap(),
            FunctionRef {
                name: "HelloWorld".into(),
                region: None,
                account_id: None,
                qualifier: None
            }
        );
        let r = parse_function_name("HelloWorld:prod").unwrap();
        assert_eq!(r.qualifier.as_deref(), Some("prod"));
        let r = parse_function_name("123456789012:function:HelloWorld").unwrap();
        assert_eq!(r.account_id.as_deref(), Some("123456789012"));
        let r = parse_function_name(
            "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld:$LATEST",
        )
        .unwrap();
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
        assert_eq!(r.qualifier.as_deref(), Some("$LATEST"));
        assert_eq!(
            parse_function_name("bad name"),
            Err(FunctionNameError::Pattern)
        );
        assert_eq!(parse_function_name(""), Err(FunctionNameError::Pattern));
        assert_eq!(
            parse_function_name(&"a".repeat(65)),
            Err(FunctionNameError::TooLong)
        );
    }

    #[test]
    fn parses_the_seed_integration_uri() {
        let t = parse_lambda_integration_uri(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:HelloWorld/invocations",
        )
        .unwrap();
        assert_eq!(t.region, "us-east-1");
        assert_eq!(t.function.name, "HelloWorld");
        assert_eq!(t.function.account_id.as_deref(), Some("123456789012"));
        assert!(
            parse_lambda_integration_uri("arn:aws:apigateway:us-east-1:s3:path/bucket").is_none()
        );
        assert!(parse_lambda_integration_uri("http://example.com").is_none());
    }
}
