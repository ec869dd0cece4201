//! Reading log files the way supervisor's API does (`readFile`, `tailFile`), and the first part
//! of a followed log.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use shared::Fault;

/// supervisor's `readFile`: `offset ≥ 0` reads `length` bytes (0: to the end); `offset < 0` with
/// `length == 0` reads the last `-offset` bytes; anything else is BAD_ARGUMENTS.
pub(crate) fn read_file(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, Fault> {
    let bad = || Fault::BadArguments("offset/length".into());
    let failed = |e: std::io::Error| Fault::Failed(format!("{}: {e}", path.display()));
    let mut f = std::fs::File::open(path).map_err(failed)?;
    let mut data = Vec::new();
    if offset < 0 {
        if length != 0 {
            return Err(bad());
        }
        let size = f.seek(SeekFrom::End(0)).map_err(failed)?;
        let want = offset.unsigned_abs();
        f.seek(SeekFrom::Start(size.saturating_sub(want)))
            .map_err(failed)?;
        f.take(want).read_to_end(&mut data).map_err(failed)?;
    } else {
        if length < 0 {
            return Err(bad());
        }
        f.seek(SeekFrom::Start(offset as u64)).map_err(failed)?;
        if length == 0 {
            f.read_to_end(&mut data).map_err(failed)?;
        } else {
            f.take(length as u64)
                .read_to_end(&mut data)
                .map_err(failed)?;
        }
    }
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
    let (mut offset, mut length) = (offset, length);
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
    }
}
