//! Keeps the idle monitor's resident set small. Its code and read-only
//! data are file-backed pages: start-up and take-over touch (and the
//! kernel's fault-around maps) far more of them than the poll loop needs.
//! Dropping those page table entries costs nothing: a page used again
//! faults back in from the page cache. Only read-only, private, file-backed
//! mappings with no modified page are dropped (a relocated GOT is
//! read-only too, but its pages are private copies: it is skipped).

/// Drops the mappings of unmodified read-only file-backed pages (the
/// binary's and its libraries' code and constants) from the resident set.
pub fn trim() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    let mut candidate: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let Some(first) = f.next() else { continue };
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            // A mapping's header: range perms offset dev inode path.
            let perms = f.next().unwrap_or("");
            let inode = f.nth(2).unwrap_or("0");
            let path = f.next().unwrap_or("");
            candidate = match (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
                (Ok(s), Ok(e)) if (perms == "r-xp" || perms == "r--p") && inode != "0" && path.starts_with('/') => {
                    Some((s, e))
                }
                _ => None,
            };
        } else if first == "Anonymous:" {
            // Decided once the mapping's Anonymous count (its modified pages) is known.
            let modified = f.next().is_none_or(|kb| kb != "0");
            if let (Some((start, end)), false) = (candidate.take(), modified) {
                // SAFETY: the range is a read-only private file mapping of
                // this process with no private (modified) page, read from
                // /proc/self/smaps; MADV_DONTNEED only removes its page
                // table entries, and the pages fault back in unchanged from
                // the file when touched.
                unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
            }
        }
    }
}
