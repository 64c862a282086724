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

/// The directory of one code package, named by its SHA-256: `{function}/code/{hex}`. Versions
/// that share a package share its extraction, and a package is never rewritten in place, so
/// environments still running old code keep a consistent tree while new code is written.
pub(crate) fn package_dir(function_dir: &Path, code_sha256: &str) -> PathBuf {
    let hex: String = base64::engine::general_purpose::STANDARD
        .decode(code_sha256)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    function_dir.join("code").join(hex)
}

/// The extracted code (`LAMBDA_TASK_ROOT`) of a package directory.
pub(crate) fn task_dir(package_dir: &Path) -> PathBuf {
    package_dir.join("task")
}

/// The zip as uploaded, of a package directory.
pub(crate) fn zip_path(package_dir: &Path) -> PathBuf {
    package_dir.join("code.zip")
}

/// The SHA-256 of a zip, base64 (`CodeSha256`).
pub(crate) fn sha256_of(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// Writes the zip durably and extracts it under its package directory (a no-op when that
/// package is already stored). Runs on the blocking pool: extraction is disk- and CPU-bound.
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
    let stored = StoredCode {
        sha256: sha256_of(zip),
        size: zip.len() as i64,
    };
    let package = package_dir(function_dir, &stored.sha256);
    let task = task_dir(&package);
    if task.is_dir() && zip_path(&package).is_file() {
        return Ok(stored);
    }
    std::fs::create_dir_all(&package).map_err(io)?;
    let staging = package.join("task.new");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io)?;
    }
    std::fs::create_dir_all(&staging).map_err(io)?;
    if let Err(error) = portico_sandbox::extract_zip(zip, &staging) {
        let _ = std::fs::remove_dir_all(&package);
        return Err(extract_failure(&error));
    }
    let mut file = std::fs::File::create(zip_path(&package)).map_err(io)?;
    file.write_all(zip).map_err(io)?;
    // The store commit that follows must never point at code a crash could lose.
    file.sync_all().map_err(io)?;
    if task.exists() {
        std::fs::remove_dir_all(&task).map_err(io)?;
    }
    std::fs::rename(&staging, &task).map_err(io)?;
    Ok(stored)
}

/// The answer to a package that could not be unpacked. A decompressor's complaint about the
/// data (`corrupt deflate stream` is `InvalidInput`) is the user's bad zip even when it
/// surfaces as an I/O error; only the disk's own failures are ours.
fn extract_failure(error: &portico_sandbox::ExtractError) -> AwsError {
    if let Some(message) = error.aws_message() {
        return AwsError::invalid_parameter_value(message);
    }
    if let portico_sandbox::ExtractError::Io(io) = error
        && matches!(
            io.kind(),
            std::io::ErrorKind::InvalidInput
                | std::io::ErrorKind::InvalidData
                | std::io::ErrorKind::UnexpectedEof
        )
    {
        return unzip_error();
    }
    AwsError::service(format!("Could not store the function code: {error}"))
}

/// Re-extracts a package from its stored zip when the extraction is missing (a data
/// directory restored without it, or a crash between write and rename). A function stored by
/// an earlier layout (`{function}/code.zip`) is moved into its package directory.
pub(crate) async fn ensure_extracted(
    function_dir: PathBuf,
    code_sha256: &str,
) -> Result<(), AwsError> {
    let package = package_dir(&function_dir, code_sha256);
    if task_dir(&package).is_dir() {
        return Ok(());
    }
    let zip = match tokio::fs::read(zip_path(&package)).await {
        Ok(zip) => zip,
        Err(_) => tokio::fs::read(function_dir.join("code.zip"))
            .await
            .map_err(|e| AwsError::service(format!("The function code is missing: {e}")))?,
    };
    store_code(function_dir, zip).await.map(|_| ())
}

/// Removes the packages of a function that no configuration in `keep` uses.
pub(crate) async fn remove_unused(function_dir: PathBuf, keep: Vec<String>) {
    let keep: Vec<PathBuf> = keep
        .iter()
        .map(|sha| package_dir(&function_dir, sha))
        .collect();
    let Ok(mut entries) = tokio::fs::read_dir(function_dir.join("code")).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        if !keep.contains(&path) {
            let _ = tokio::fs::remove_dir_all(&path).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_named_by_their_digest() {
        let sha = sha256_of(b"");
        assert_eq!(sha, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_eq!(
            package_dir(Path::new("/f"), &sha),
            Path::new("/f/code/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }
}
