//! Reading log files the way supervisor's API does (`readFile`, `tailFile`), and the first part
//! of a followed log.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use shared::Fault;

/// The most one call may read from a log (what a reply carries, before base64 or XML escaping).
/// Above the default `logfile_maxbytes` (50 MB), so a default log is always read whole; a
/// client asking for more of an unbounded log reads it in pieces instead of making the daemon
/// allocate it all at once.
pub(crate) const MAX_READ: u64 = 64 << 20;

/// supervisor's `readFile`: `offset ≥ 0` reads `length` bytes (0: to the end); `offset < 0` with
/// `length == 0` reads the last `-offset` bytes; anything else is BAD_ARGUMENTS. A read of more
/// than [`MAX_READ`] bytes is FAILED, naming the limit.
pub(crate) fn read_file(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, Fault> {
    // supervisor's readFile faults carry no text.
    let bad = || Fault::BadArguments(String::new());
    let failed = |_: std::io::Error| Fault::Failed(String::new());
    let mut f = std::fs::File::open(path).map_err(failed)?;
    let size = f.seek(SeekFrom::End(0)).map_err(failed)?;
    let (start, want) = if offset < 0 {
        if length != 0 {
            return Err(bad());
        }
        let want = offset.unsigned_abs().min(size);
        (size - want, want)
    } else {
        if length < 0 {
            return Err(bad());
        }
        let start = (offset as u64).min(size);
        let left = size - start;
        (
            start,
            if length == 0 {
                left
            } else {
                left.min(length as u64)
            },
        )
    };
    if want > MAX_READ {
        return Err(Fault::Failed(format!(
            "{} bytes asked for; at most {MAX_READ} per call: read the log in pieces (offset, length)",
            want
        )));
    }
    f.seek(SeekFrom::Start(start)).map_err(failed)?;
    let mut data = Vec::with_capacity(want as usize);
    f.take(want).read_to_end(&mut data).map_err(failed)?;
    Ok(data)
}

/// supervisor's `tailFile`: up to `length` bytes from `offset`; if more than that is there,
/// the last `length` bytes and overflow. Returns (data, new offset = file size, overflow).
pub(crate) fn tail_file(path: &Path, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    let Ok(mut f) = std::fs::File::open(path) else {
        return (Vec::new(), offset, false);
    };
    let Ok(size) = f.seek(SeekFrom::End(0)) else {
        return (Vec::new(), offset, false);
    };
    let sz = i64::try_from(size).unwrap_or(i64::MAX);
    // At most MAX_READ bytes come back: the last ones, with overflow, as for any length.
    let (mut offset, mut length) = (offset, length.min(MAX_READ as i64));
    let mut overflow = false;
    // Client values: saturating, so no pair of them can overflow.
    if sz > offset.saturating_add(length) {
        overflow = true;
        offset = sz - 1;
    }
    if offset.saturating_add(length) > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz.saturating_sub(length).max(0);
        length = length.max(0);
    }
    let mut data = Vec::new();
    if length > 0 && f.seek(SeekFrom::Start(offset as u64)).is_ok() {
        let _ = f.take(length as u64).read_to_end(&mut data);
    }
    (data, sz, overflow)
}

/// The last `n` bytes of a file (empty if it does not exist).
pub(crate) fn last_bytes(path: &Path, n: u64) -> Vec<u8> {
    read_file(path, -(n.min(i64::MAX as u64) as i64), 0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_tail_like_supervisor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("l");
        std::fs::write(&p, "hello sleeper\ned\n").expect("write");
        assert_eq!(read_file(&p, 0, 5).expect("read"), b"hello");
        assert_eq!(read_file(&p, -3, 0).expect("read"), b"ed\n");
        assert_eq!(read_file(&p, 6, 0).expect("read"), b"sleeper\ned\n");
        assert!(matches!(read_file(&p, -3, 2), Err(Fault::BadArguments(_))));
        assert!(matches!(read_file(&p, 0, -1), Err(Fault::BadArguments(_))));
        assert_eq!(tail_file(&p, 0, 3), (b"ed\n".to_vec(), 17, true));
        assert_eq!(tail_file(&p, 17, 100), (Vec::new(), 17, false));
        assert_eq!(
            tail_file(&dir.path().join("none"), 0, 10),
            (Vec::new(), 0, false)
        );
        // Client values at the edges of i64 do not overflow.
        assert_eq!(tail_file(&p, i64::MAX, i64::MAX).1, 17);
        assert_eq!(tail_file(&p, i64::MIN, i64::MIN).1, 17);
        assert_eq!(tail_file(&p, i64::MAX, i64::MIN).1, 17);
        // Past the end: nothing, as in supervisor.
        assert_eq!(read_file(&p, 100, 5).expect("read"), b"");
    }

    #[test]
    fn one_call_reads_at_most_max_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big");
        let f = std::fs::File::create(&p).expect("create");
        // Sparse: no disk used.
        f.set_len(MAX_READ + 10).expect("set_len");
        let e = read_file(&p, 0, 0).expect_err("too much");
        assert!(e.to_string().contains("read the log in pieces"), "{e}");
        assert!(read_file(&p, -(MAX_READ as i64) - 1, 0).is_err());
        assert_eq!(read_file(&p, 10, 0).expect("read").len() as u64, MAX_READ);
        assert_eq!(read_file(&p, 0, 10).expect("read").len(), 10);
        let (data, size, overflow) = tail_file(&p, 0, i64::MAX);
        assert_eq!(
            (data.len() as u64, size as u64, overflow),
            (MAX_READ, MAX_READ + 10, true)
        );
    }
}
