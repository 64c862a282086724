//! Function code on disk: the zip as uploaded (`code.zip`, served back by GetFunction) and its
//! extraction (`task/`, the runtime's `LAMBDA_TASK_ROOT`).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use portico_core::AwsError;
use sha2::{Digest, Sha256};

/// Lambda's limit on a directly uploaded zip.
pub(crate) const MAX_ZIPPED_BYTES: usize = 52_428_800;

/// What a stored code package looks like to the control plane.
#[derive(Debug, Clone)]
pub(crate) struct StoredCode {
    /// Base64 SHA-256 of the zip (`CodeSha256`).
    pub sha256: String,
    /// Zip size in bytes (`CodeSize`).
    pub size: i64,
}

/// Decodes the base64 `ZipFile` member.
pub(crate) fn decode_zip(base64_zip: &str) -> Result<Vec<u8>, AwsError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_zip.trim())
        .map_err(|_| unzip_error())?;
    if bytes.len() > MAX_ZIPPED_BYTES {
        return Err(AwsError::new(
            "RequestEntityTooLargeException",
            413,
            format!("Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

fn unzip_error() -> AwsError {
    AwsError::invalid_parameter_value(
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    )
}

/// The extracted code directory of a function directory.
pub(crate) fn task_dir(function_dir: &Path) -> PathBuf {
    function_dir.join("task")
}

/// Writes the zip durably and extracts it, replacing what the directory held. Runs on the
/// blocking pool: extraction is disk- and CPU-bound.
pub(crate) async fn store_code(
    function_dir: PathBuf,
    zip: Vec<u8>,
) -> Result<StoredCode, AwsError> {
    tokio::task::spawn_blocking(move || store_code_blocking(&function_dir, &zip))
        .await
        .map_err(|e| AwsError::service(format!("Code extraction was interrupted: {e}")))?
}

fn store_code_blocking(function_dir: &Path, zip: &[u8]) -> Result<StoredCode, AwsError> {
    let io =
        |e: std::io::Error| AwsError::service(format!("Could not store the function code: {e}"));
    std::fs::create_dir_all(function_dir).map_err(io)?;
    let staging = function_dir.join("task.new");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io)?;
    }
    std::fs::create_dir_all(&staging).map_err(io)?;
    if let Err(error) = portico_sandbox::extract_zip(zip, &staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(match error.aws_message() {
            Some(message) => AwsError::invalid_parameter_value(message),
            None => AwsError::service(format!("Could not store the function code: {error}")),
        });
    }
    let zip_path = function_dir.join("code.zip");
    let mut file = std::fs::File::create(&zip_path).map_err(io)?;
    file.write_all(zip).map_err(io)?;
    // The store commit that follows must never point at code a crash could lose.
    file.sync_all().map_err(io)?;
    let task = task_dir(function_dir);
    if task.exists() {
        std::fs::remove_dir_all(&task).map_err(io)?;
    }
    std::fs::rename(&staging, &task).map_err(io)?;
    let digest = Sha256::digest(zip);
    Ok(StoredCode {
        sha256: base64::engine::general_purpose::STANDARD.encode(digest),
        size: zip.len() as i64,
    })
}

/// Re-extracts a function's code from its stored zip when the extraction is missing (a data
/// directory restored without it, or a crash between write and rename).
pub(crate) async fn ensure_extracted(function_dir: PathBuf) -> Result<(), AwsError> {
    if task_dir(&function_dir).exists() {
        return Ok(());
    }
    let zip = tokio::fs::read(function_dir.join("code.zip"))
        .await
        .map_err(|e| AwsError::service(format!("The function code is missing: {e}")))?;
    store_code(function_dir, zip).await.map(|_| ())
}
