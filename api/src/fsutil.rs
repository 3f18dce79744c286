//! Files and directories with the permissions Strongroom promises: the data
//! directory is 0700, secrets are 0600, and files are replaced atomically
//! (temporary file, fsync, rename, fsync the directory).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Creates `dir` (mode 0700) unless it exists, and checks that it is a
/// writable directory. The parent must exist: a missing parent usually means
/// a typo or an unmounted volume, and creating it would hide that.
///
/// Returns the absolute path.
pub fn ensure_data_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            bail!(
                "data directory {} exists but is not a directory",
                dir.display()
            )
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let parent = match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !parent.is_dir() {
                bail!(
                    "cannot create data directory {}: its parent {} does not exist",
                    dir.display(),
                    parent.display()
                );
            }
            DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open data directory {}", dir.display()));
        }
    }
    let absolute = fs::canonicalize(dir)
        .with_context(|| format!("cannot resolve data directory {}", dir.display()))?;
    check_writable_dir(&absolute)?;
    Ok(absolute)
}

/// Checks that an existing data directory is writable. The mode bits are
/// checked as well as a probe write, so a directory marked read-only is
/// refused even for root (who could write it anyway).
pub fn check_writable_dir(dir: &Path) -> anyhow::Result<()> {
    let meta = fs::metadata(dir)
        .with_context(|| format!("cannot open data directory {}", dir.display()))?;
    if !meta.is_dir() {
        bail!("data directory {} is not a directory", dir.display());
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o200 == 0 {
        bail!(
            "data directory {} is read-only (mode {mode:03o}); Strongroom needs to write there",
            dir.display()
        );
    }
    let probe = dir.join(".strongroom-write-probe");
    let result = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&probe);
    match result {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => {
            Err(e).with_context(|| format!("data directory {} is not writable", dir.display()))
        }
    }
}

/// Whether group or others may access `path` (for warnings about loose
/// permissions on directories Strongroom did not create).
pub fn loose_mode(path: &Path) -> Option<u32> {
    let mode = fs::metadata(path).ok()?.mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Writes `contents` to `path` atomically with `mode` (0600 for secrets):
/// the data goes to a temporary file in the same directory, which is synced
/// and renamed over `path`, and then the directory is synced. A crash leaves
/// the old file or the new one, never half of either.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let _ = fs::remove_file(&tmp);
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed the mode; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Creates directory `dir` with `mode` if it does not exist (parent must).
pub fn ensure_dir(dir: &Path, mode: u32) -> anyhow::Result<()> {
    match DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create directory {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_data_dir_0700() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let abs = ensure_data_dir(&dir).unwrap();
        assert!(abs.is_absolute());
        assert_eq!(fs::metadata(&abs).unwrap().mode() & 0o777, 0o700);
        // Idempotent.
        ensure_data_dir(&dir).unwrap();
    }

    #[test]
    fn missing_parent_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("no/such/data");
        let err = format!("{:#}", ensure_data_dir(&dir).unwrap_err());
        assert!(err.contains("does not exist"), "{err}");
        assert!(
            err.contains(&tmp.path().join("no/such").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn read_only_dir_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).unwrap();
        let err = format!("{:#}", ensure_data_dir(&dir).unwrap_err());
        assert!(err.contains("read-only"), "{err}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn a_file_is_not_a_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"x").unwrap();
        let err = format!("{:#}", ensure_data_dir(&file).unwrap_err());
        assert!(err.contains("not a directory"), "{err}");
    }

    #[test]
    fn atomic_write_sets_the_mode_and_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("secret.json");
        write_atomic(&path, b"one", 0o600).unwrap();
        write_atomic(&path, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
