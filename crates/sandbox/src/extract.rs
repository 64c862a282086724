//! Unpacking a function's deployment package (`Code.ZipFile`) into a directory.

use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

/// Largest total unzipped size Lambda accepts (250 MB).
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

/// Why a deployment package could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Not a readable zip archive (or it uses a compression method other than deflate/store).
    #[error("invalid zip archive: {0}")]
    InvalidZip(String),
    /// An entry's path or symlink target would land outside the destination (zip-slip).
    #[error("zip entry escapes the destination: {0}")]
    UnsafePath(String),
    /// The archive unpacks to more than [`MAX_UNZIPPED_BYTES`].
    #[error("unzipped size exceeds {MAX_UNZIPPED_BYTES} bytes")]
    TooLarge,
    /// Writing the files failed (our disk, not the user's package).
    #[error("writing the unzipped code failed: {0}")]
    Io(#[from] io::Error),
}

impl ExtractError {
    /// The message AWS answers with (400 `InvalidParameterValueException`), or `None` for
    /// [`ExtractError::Io`], which is a service-side failure.
    #[must_use]
    pub fn aws_message(&self) -> Option<String> {
        match self {
            Self::InvalidZip(_) | Self::UnsafePath(_) => Some(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
                    .to_owned(),
            ),
            Self::TooLarge => Some(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )),
            Self::Io(_) => None,
        }
    }
}

/// Unpacks `zip_bytes` into `dest` (created if missing) and returns the total unzipped size.
///
/// Entry names are taken only through `enclosed_name`, so `../x` and absolute paths are refused;
/// symlink entries must point inside `dest` and are created last, so no write goes through one. Unix permission bits are kept (minus setuid/setgid/
/// sticky) so `bootstrap` stays executable. The size cap is enforced on the bytes actually
/// written, not only on the sizes the archive declares.
///
/// # Errors
/// See [`ExtractError`]; on error `dest` may hold a partial tree, which the caller discards.
pub fn extract_zip(zip_bytes: &[u8], dest: &Path) -> Result<u64, ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes))
        .map_err(|e| ExtractError::InvalidZip(e.to_string()))?;
    let declared: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add);
    if declared > MAX_UNZIPPED_BYTES {
        return Err(ExtractError::TooLarge);
    }
    fs::create_dir_all(dest)?;
    let mut total: u64 = 0;
    // Symlinks are created only after every file is written: a write through a link made
    // earlier in the same archive (`a -> b/..`, then `a/../x`) could otherwise leave `dest`.
    let mut links = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ExtractError::InvalidZip(e.to_string()))?;
        let name = entry
            .name()
            .map_err(|e| ExtractError::InvalidZip(e.to_string()))?
            .into_owned();
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| ExtractError::UnsafePath(name.clone()))?;
        let path = dest.join(&rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            fs::create_dir_all(&path)?;
            if let Some(m) = mode {
                fs::set_permissions(&path, fs::Permissions::from_mode((m & 0o777) | 0o700))?;
            }
            continue;
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        if entry.is_symlink() {
            let mut target = String::new();
            // A link target is a path; anything longer than PATH_MAX is not one.
            (&mut entry)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| ExtractError::InvalidZip(e.to_string()))?;
            if !symlink_stays_inside(&rel, Path::new(&target)) {
                return Err(ExtractError::UnsafePath(format!("{name} -> {target}")));
            }
            links.push((path, target));
            continue;
        }
        let mut out = fs::File::create(&path)?;
        let remaining = MAX_UNZIPPED_BYTES - total;
        // Read one byte past the budget so an archive that lies about its sizes is caught.
        let written = copy_entry(&mut (&mut entry).take(remaining + 1), &mut out)?;
        total += written;
        if total > MAX_UNZIPPED_BYTES {
            return Err(ExtractError::TooLarge);
        }
        let perm = mode.map_or(0o644, |m| m & 0o777);
        fs::set_permissions(&path, fs::Permissions::from_mode(perm))?;
    }
    for (path, target) in links {
        let _ = fs::remove_file(&path);
        std::os::unix::fs::symlink(&target, &path)?;
    }
    Ok(total)
}

/// Copies one entry out. A failure to read is the archive's fault (corrupt deflate data, a bad
/// CRC: whatever kind of `io::Error` the decoder chose) and answers like any invalid zip; a
/// failure to write is ours.
fn copy_entry(entry: &mut impl Read, out: &mut impl Write) -> Result<u64, ExtractError> {
    let mut buffer = [0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        let n = match entry.read(&mut buffer) {
            Ok(0) => return Ok(written),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ExtractError::InvalidZip(e.to_string())),
        };
        out.write_all(&buffer[..n])?;
        written += n as u64;
    }
}

/// Whether a symlink at `link` (relative to the root) pointing at `target` resolves, lexically,
/// to a path inside the root.
fn symlink_stays_inside(link: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: usize = link.parent().map_or(0, |p| p.components().count());
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_targets_are_checked_lexically() {
        assert!(symlink_stays_inside(Path::new("a/link"), Path::new("../b")));
        assert!(symlink_stays_inside(Path::new("link"), Path::new("./b/c")));
        assert!(!symlink_stays_inside(Path::new("link"), Path::new("../b")));
        assert!(!symlink_stays_inside(
            Path::new("a/link"),
            Path::new("../../etc/passwd")
        ));
        assert!(!symlink_stays_inside(
            Path::new("link"),
            Path::new("/etc/passwd")
        ));
    }
}
