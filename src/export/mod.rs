//! The anonymised files for the outside world (SPEC section 5), written atomically.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub mod stats;
pub mod validity_check;

/// Where an export goes: a file (replaced atomically) or standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    File(PathBuf),
    Stdout,
}

impl Output {
    /// `--output PATH` (`-` for stdout), or `file_name` in the media root.
    pub fn choose(option: Option<&str>, media_root: &Path, file_name: &str) -> Output {
        match option {
            Some("-") => Output::Stdout,
            Some(path) => Output::File(PathBuf::from(path)),
            None => Output::File(media_root.join(file_name)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("impossible d'écrire {path} ({cause}) ; le fichier précédent est inchangé")]
    Write { path: String, cause: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// An export being written. For a file: a temporary file in the same directory, which
/// `commit` flushes, syncs and renames over the target, so that a reader sees the old file or
/// the new one, never a part of one. Dropped without `commit`, it leaves the target untouched.
pub struct ExportFile {
    path: PathBuf,
    target: Target,
}

enum Target {
    Stdout(BufWriter<io::Stdout>),
    Temp(BufWriter<tempfile::NamedTempFile>),
}

impl ExportFile {
    pub fn create(output: &Output) -> Result<ExportFile, ExportError> {
        let path = match output {
            Output::Stdout => {
                return Ok(ExportFile {
                    path: PathBuf::from("-"),
                    target: Target::Stdout(BufWriter::new(io::stdout())),
                });
            }
            Output::File(path) => path.clone(),
        };
        let fail = |e: io::Error| write_error(&path, e);
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir).map_err(fail)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.unwrap_or_default()))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(fail)?;
        Ok(ExportFile {
            target: Target::Temp(BufWriter::with_capacity(256 * 1024, temp)),
            path,
        })
    }

    /// The error to report when writing to this export failed.
    pub fn error(&self, error: io::Error) -> ExportError {
        write_error(&self.path, error)
    }

    /// Makes the new content visible, replacing the previous file in one step.
    pub fn commit(self) -> Result<(), ExportError> {
        let fail = |e: io::Error| write_error(&self.path, e);
        match self.target {
            Target::Stdout(mut stdout) => stdout.flush().map_err(fail),
            Target::Temp(writer) => {
                let temp = writer.into_inner().map_err(|e| fail(e.into_error()))?;
                temp.as_file().sync_all().map_err(fail)?;
                // The files are public by design: readable by the public service's user.
                set_readable(temp.path()).map_err(fail)?;
                temp.persist(&self.path).map_err(|e| fail(e.error))?;
                Ok(())
            }
        }
    }
}

impl Write for ExportFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Stdout(w) => w.write(buf),
            Target::Temp(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.target {
            Target::Stdout(w) => w.flush(),
            Target::Temp(w) => w.flush(),
        }
    }
}

#[cfg(unix)]
fn set_readable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_path: &Path) -> io::Result<()> {
    Ok(())
}

fn write_error(path: &Path, error: io::Error) -> ExportError {
    ExportError::Write {
        path: path.display().to_string(),
        cause: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_not_committed_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validity_check.json");
        fs::write(&path, "[1]").unwrap();
        let output = Output::File(path.clone());

        let mut failed = ExportFile::create(&output).unwrap();
        failed.write_all(&[b' '; 1 << 20]).unwrap();
        drop(failed);
        assert_eq!(fs::read_to_string(&path).unwrap(), "[1]");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );

        let mut export = ExportFile::create(&output).unwrap();
        export.write_all(b"[2]").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[1]",
            "not visible before commit"
        );
        export.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[2]");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_unwritable_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("media");
        fs::write(&blocker, "not a directory").unwrap();
        let output = Output::File(blocker.join("stats.json"));
        let error = ExportFile::create(&output).err().unwrap();
        assert!(error.to_string().contains("impossible d'écrire"), "{error}");
        assert!(error.to_string().contains("stats.json"), "{error}");
    }

    #[test]
    fn output_defaults_to_the_media_root() {
        let media = Path::new("/srv/media");
        assert_eq!(
            Output::choose(None, media, "stats.json"),
            Output::File(PathBuf::from("/srv/media/stats.json"))
        );
        assert_eq!(
            Output::choose(Some("-"), media, "stats.json"),
            Output::Stdout
        );
        assert_eq!(
            Output::choose(Some("out.json"), media, "stats.json"),
            Output::File(PathBuf::from("out.json"))
        );
    }
}
