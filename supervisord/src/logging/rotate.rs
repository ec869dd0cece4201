//! A log file rotated by size. A file never grows past `maxbytes`: a write that would take it
//! there is cut after its last line that fits (a line longer than a whole file is cut where the
//! file is full), the file is rolled over, `f.N-1` → `f.N` … `f` → `f.1`, and the rest goes to a
//! new `f`; a file that reaches `maxbytes` exactly is rolled over at once, as in Python
//! supervisor's `loggers.RotatingFileHandler`. `maxbytes = 0` never rotates; `backups = 0`
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

    /// Writes `buf`, rolling over before the file would pass `maxbytes` (a burst read in one
    /// piece is spread over files of at most `maxbytes`, lines kept whole where they fit).
    pub fn write_record(&mut self, mut buf: &[u8]) -> io::Result<()> {
        if self.maxbytes == 0 {
            self.file.write_all(buf)?;
            self.size += buf.len() as u64;
            return Ok(());
        }
        while !buf.is_empty() {
            let room =
                usize::try_from(self.maxbytes.saturating_sub(self.size)).unwrap_or(usize::MAX);
            let take = if buf.len() <= room {
                buf.len()
            } else {
                match buf[..room].iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    // Not one whole line fits: it starts the next file.
                    None if self.size > 0 => {
                        self.rollover()?;
                        continue;
                    }
                    // A line longer than a whole file.
                    None => room,
                }
            };
            self.file.write_all(&buf[..take])?;
            self.size += take as u64;
            buf = &buf[take..];
            if self.size >= self.maxbytes {
                self.rollover()?;
            }
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
    fn a_write_that_would_pass_maxbytes_starts_a_new_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.log");
        let backup = |i| read(&dir.path().join(format!("x.log.{i}")));
        let mut f = RotatingFile::open(&p, 10, 2).expect("open");
        f.write_record(b"12345").expect("write");
        assert_eq!(read(&p), "12345");
        f.write_record(b"678901").expect("write"); // 11 bytes > 10: a new file first
        assert_eq!((read(&p), backup(1)), ("678901".into(), "12345".into()));
        f.write_record(b"abcd").expect("write"); // exactly 10: rolled over at once
        assert_eq!(
            (read(&p), backup(1), backup(2)),
            (String::new(), "678901abcd".into(), "12345".into())
        );
        assert!(!dir.path().join("x.log.3").exists());
    }

    #[test]
    fn a_burst_is_spread_over_files_of_at_most_maxbytes_with_whole_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("b.log");
        let mut f = RotatingFile::open(&p, 4096, 20).expect("open");
        let line = format!("{}\n", "x".repeat(69));
        f.write_record(line.repeat(400).as_bytes()).expect("write");
        // 58 lines (4060 bytes) fill a file: the 59th would pass the limit.
        for i in 1..=6 {
            let b = read(&dir.path().join(format!("b.log.{i}")));
            assert_eq!(b.len(), 4060, "b.log.{i}");
            assert!(b.ends_with('\n'));
        }
        assert_eq!(read(&p).len(), 28000 - 6 * 4060);
        assert!(!dir.path().join("b.log.7").exists());
    }

    #[test]
    fn a_line_longer_than_a_file_is_cut_where_the_file_is_full() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("l.log");
        let mut f = RotatingFile::open(&p, 4, 3).expect("open");
        f.write_record(b"abcdefghij").expect("write");
        let backup = |i| read(&dir.path().join(format!("l.log.{i}")));
        assert_eq!(
            (backup(2), backup(1), read(&p)),
            ("abcd".into(), "efgh".into(), "ij".into())
        );
    }

    #[test]
    fn zero_backups_truncates_and_zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.log");
        let mut f = RotatingFile::open(&p, 4, 0).expect("open");
        f.write_record(b"abcdef").expect("write");
        assert_eq!(read(&p), "ef");
        f.write_record(b"g").expect("write");
        assert_eq!(read(&p), "efg");
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
