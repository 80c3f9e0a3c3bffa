//! Keeps the idle monitor's resident set small. Its code and read-only
//! data are file-backed pages: start-up and take-over touch (and the
//! kernel's fault-around maps) far more of them than the poll loop needs.
//! Dropping those page table entries costs nothing: a page used again
//! faults back in from the page cache. Only read-only, private, file-backed
//! mappings with no modified page are dropped (a relocated GOT is
//! read-only too, but its pages are private copies: it is skipped).

/// Drops the mappings of unmodified read-only file-backed pages (the
/// binary's and its libraries' code and constants) from the resident set,
/// the stack pages below the current frame (dead: the shim handles its
/// signals through a signalfd, so no handler runs on them), and the heap
/// pages malloc has free (reading smaps itself takes some).
pub fn trim() {
    trim_mappings();
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe { libc::malloc_trim(0) };
}

fn trim_mappings() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else { return };
    let mut candidate: Option<(usize, usize)> = None;
    let here = 0u8;
    let sp = std::ptr::addr_of!(here) as usize;
    for line in smaps.lines() {
        let mut f = line.split_whitespace();
        let Some(first) = f.next() else { continue };
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            // A mapping's header: range perms offset dev inode path.
            let perms = f.next().unwrap_or("");
            let inode = f.nth(2).unwrap_or("0");
            let path = f.next().unwrap_or("");
            if let (Ok(s), Ok(e), "[stack]") = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16), path) {
                // Everything below this frame, less a margin for the calls
                // from here (madvise's own frame among them).
                let top = (sp.saturating_sub(4 << 10)) & !4095;
                if s < top && top <= e {
                    // SAFETY: [s, top) is this thread's stack below every
                    // live frame; MADV_DONTNEED zero-fills it when touched.
                    unsafe { libc::madvise(s as *mut libc::c_void, top - s, libc::MADV_DONTNEED) };
                }
            }
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
