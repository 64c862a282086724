//! Unit tests of the environment's pure parts: failure rendering, client context.

use super::*;

#[test]
fn client_context_reaches_runtimes_as_json() {
    let json = r#"{"custom":{"k":"v"},"env":{"e":"1"}}"#;
    assert_eq!(client_context_json(json.to_owned()), json);
    // eyJjdXN0b20iOnsiayI6InYifX0= is base64 of {"custom":{"k":"v"}}.
    assert_eq!(
        client_context_json("eyJjdXN0b20iOnsiayI6InYifX0=".to_owned()),
        r#"{"custom":{"k":"v"}}"#
    );
    // Neither JSON nor base64 of JSON: passed on unchanged for the runtime to reject.
    assert_eq!(client_context_json("not json!".to_owned()), "not json!");
    assert_eq!(client_context_json("aGVsbG8=".to_owned()), "aGVsbG8=");
}

#[test]
fn init_errors_keep_the_runtime_document() {
    let body = br#"{"errorMessage": "Unable to import module 'app': No module named 'app'", "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}"#;
    let death = init_failure(Some("Runtime.ImportModuleError".to_owned()), body);
    assert_eq!(
        death.outcome("r-1"),
        InvokeOutcome::Failed {
            error_type: "Runtime.ImportModuleError".to_owned(),
            message: "Unable to import module 'app': No module named 'app'".to_owned(),
            document: Some(Bytes::from_static(body)),
        }
    );
    // A body that is not a JSON object falls back to the header's type and no document.
    let death = init_failure(Some("Runtime.Custom".to_owned()), b"oops");
    assert_eq!(
        death.outcome("r-2").failure_payload().unwrap(),
        r#"{"errorType":"Runtime.Custom","errorMessage":""}"#
    );
}

#[test]
fn out_of_memory_renders_as_lambda_words_it() {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        Death::OutOfMemory(ExitStatus::from_raw(9))
            .outcome("r-3")
            .failure_payload()
            .unwrap(),
        r#"{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: r-3 Error: Runtime exited with error: signal: killed"}"#
    );
}
