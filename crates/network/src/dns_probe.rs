//! A minimal DNS client, for one question only: does this server answer
//! this name with this address yet? aardvark-dns reloads its records in
//! the background after SIGHUP; a container must not start before its own
//! name (and so its network's records) is served, or a program that looks
//! up its database at boot fails.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Asks `server` for `name` (A or AAAA, as `want` is) until an answer
/// includes `want` or `timeout` passes. Returns whether it did.
pub fn wait_answering(server: SocketAddr, name: &str, want: IpAddr, timeout: Duration) -> bool {
    let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().unwrap_or(server);
    let Ok(sock) = UdpSocket::bind(bind) else { return false };
    if sock.connect(server).is_err() || sock.set_read_timeout(Some(Duration::from_millis(20))).is_err() {
        return false;
    }
    let qtype = if want.is_ipv4() { 1 } else { 28 };
    let deadline = Instant::now() + timeout;
    let mut id: u16 = (std::process::id() as u16) ^ 0x5a5a;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        id = id.wrapping_add(1);
        let Some(query) = query(id, name, qtype) else { return false };
        if sock.send(&query).is_ok() {
            if let Ok(n) = sock.recv(&mut buf) {
                if answers(&buf[..n], id).contains(&want) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// A recursive query for `name` of type `qtype`, class IN.
fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    Some(q)
}

/// Skips a (possibly compressed) name at `at`; returns the offset after it.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let len = *msg.get(at)? as usize;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2),
            l => at += 1 + l,
        }
    }
}

/// The A and AAAA addresses in a response to query `id`.
fn answers(msg: &[u8], id: u16) -> Vec<IpAddr> {
    let be16 = |at: usize| msg.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let mut out = Vec::new();
    if be16(0) != Some(id) || msg.get(3).is_none_or(|f| f & 0x0f != 0) {
        return out;
    }
    let (Some(qd), Some(an)) = (be16(4), be16(6)) else { return out };
    let mut at = 12;
    for _ in 0..qd {
        match skip_name(msg, at) {
            Some(next) => at = next + 4,
            None => return out,
        }
    }
    for _ in 0..an {
        let Some(next) = skip_name(msg, at) else { return out };
        let (Some(typ), Some(len)) = (be16(next), be16(next + 8)) else { return out };
        let data = next + 10;
        let Some(rdata) = msg.get(data..data + len as usize) else { return out };
        match (typ, rdata.len()) {
            (1, 4) => out.push(IpAddr::from([rdata[0], rdata[1], rdata[2], rdata[3]])),
            (28, 16) => {
                let mut b = [0u8; 16];
                b.copy_from_slice(rdata);
                out.push(IpAddr::from(b));
            }
            _ => {}
        }
        at = data + len as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_query_and_reads_an_answer() {
        let q = query(7, "web.", 1).unwrap();
        assert_eq!(&q[12..], b"\x03web\x00\x00\x01\x00\x01");
        // The response: the question echoed, one A answer named by a pointer.
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1;
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 89, 0, 2]);
        assert_eq!(answers(&r, 7), vec!["10.89.0.2".parse::<IpAddr>().unwrap()]);
        assert!(answers(&r, 8).is_empty(), "another query's answer");
        r[3] = 0x83; // NXDOMAIN
        assert!(answers(&r, 7).is_empty());
        assert!(query(1, "a..b", 1).is_none());
    }
}
