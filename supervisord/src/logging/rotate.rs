//! A log file rotated by size, with Python supervisor's rules (`loggers.RotatingFileHandler`):
//! each write lands whole, then if the file reached `maxbytes` it is rolled over: `f.N-1` →
//! `f.N` … `f` → `f.1`, and a new `f` is started. `maxbytes = 0` never rotates; `backups = 0`
//! truncates instead of keeping a copy.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u64,
    file: File,
    size: u64,
}

impl RotatingFile {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path, maxbytes: u64, backups: u64) -> io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_owned(),
            maxbytes,
            backups,
            file,
            size,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `buf` whole, then rotates if the size limit was reached.
    pub fn write_record(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)?;
        self.size += buf.len() as u64;
        if self.maxbytes > 0 && self.size >= self.maxbytes {
            self.rollover()?;
        }
        Ok(())
    }

    /// Closes and reopens the file (SIGUSR2, or after someone moved it away).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }

    /// Empties the file (and removes its backups), as `clearProcessLogs` does.
    pub fn clear(&mut self) -> io::Result<()> {
        for i in 1..=self.backups {
            remove_if_exists(&self.backup(i))?;
        }
        self.file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }

    fn backup(&self, i: u64) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{i}"));
        PathBuf::from(s)
    }

    fn rollover(&mut self) -> io::Result<()> {
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let src = self.backup(i);
                if src.exists() {
                    let dst = self.backup(i + 1);
                    remove_if_exists(&dst)?;
                    rename_if_exists(&src, &dst)?;
                }
            }
            let first = self.backup(1);
            remove_if_exists(&first)?;
            rename_if_exists(&self.path, &first)?;
        }
        self.file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_exists(a: &Path, b: &Path) -> io::Result<()> {
    match std::fs::rename(a, b) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn rotates_after_the_write_that_reaches_maxbytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.log");
        let mut f = RotatingFile::open(&p, 10, 2).expect("open");
        f.write_record(b"12345").expect("write");
        assert_eq!(read(&p), "12345");
        f.write_record(b"678901").expect("write"); // 11 bytes ≥ 10: rotate
        assert_eq!(read(&p), "");
        assert_eq!(read(&dir.path().join("x.log.1")), "12345678901");
        f.write_record(b"abcdefghij").expect("write");
        f.write_record(b"KLMNOPQRST").expect("write");
        assert_eq!(read(&dir.path().join("x.log.1")), "KLMNOPQRST");
        assert_eq!(read(&dir.path().join("x.log.2")), "abcdefghij");
        assert!(!dir.path().join("x.log.3").exists());
    }

    #[test]
    fn zero_backups_truncates_and_zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.log");
        let mut f = RotatingFile::open(&p, 4, 0).expect("open");
        f.write_record(b"abcdef").expect("write");
        f.write_record(b"gh").expect("write");
        assert_eq!(read(&p), "gh");
        assert!(!dir.path().join("t.log.1").exists());

        let q = dir.path().join("n.log");
        let mut g = RotatingFile::open(&q, 0, 5).expect("open");
        for _ in 0..100 {
            g.write_record(b"0123456789").expect("write");
        }
        assert_eq!(read(&q).len(), 1000);
        assert!(!dir.path().join("n.log.1").exists());
    }
}
