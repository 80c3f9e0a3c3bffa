//! Parsing of the sizes and numbers docker's flags take.

use crate::error::{EngineError, Result};

/// A Go duration (`30s`, `1m30s`, `500ms`, `2h`) in nanoseconds, as
/// docker's `--health-interval` and friends take it.
pub fn parse_duration(flag: &str, s: &str) -> Result<i64> {
    let bad =
        || EngineError::Invalid(format!("invalid argument {s:?} for {flag}: want a duration like 30s, 1m30s or 500ms"));
    if s == "0" {
        return Ok(0);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        let n: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Ok(total as i64)
}

/// `512m`, `1g`, `100k`, `1024` (bytes), as docker's RAMInBytes.
pub fn parse_bytes(flag: &str, s: &str) -> Result<i64> {
    let bad = || {
        EngineError::Invalid(format!(
            "invalid size for {flag}: {s:?} (want a number with an optional b, k, m or g suffix)"
        ))
    };
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').filter(|r| r.ends_with(['k', 'm', 'g', 't'])).unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        Some('b') => (&t[..t.len() - 1], 1),
        _ => (t, 1),
    };
    let v: f64 = num.parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 {
        return Err(bad());
    }
    Ok((v * mult as f64) as i64)
}

/// `--cpus 1.5` as billionths of a CPU.
pub fn parse_cpus(s: &str) -> Result<i64> {
    let bad = || EngineError::Invalid(format!("invalid value for --cpus: {s:?} (want a positive decimal number)"));
    let v: f64 = s.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || v <= 0.0 {
        return Err(bad());
    }
    Ok((v * 1e9).round() as i64)
}

/// `--ulimit nofile=1024[:2048]`.
pub fn parse_ulimit(s: &str) -> Result<crate::model::Ulimit> {
    let bad = |why: &str| EngineError::Invalid(format!("invalid --ulimit {s:?}: {why}"));
    let (name, vals) = s.split_once('=').ok_or_else(|| bad("want name=soft[:hard]"))?;
    const NAMES: &[&str] = &[
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
        "as",
    ];
    if !NAMES.contains(&name) {
        return Err(bad(&format!("unknown limit {name:?}")));
    }
    let num = |v: &str| -> Result<u64> {
        if v == "-1" || v == "unlimited" {
            return Ok(u64::MAX);
        }
        v.parse().map_err(|_| bad(&format!("{v:?} is not a number")))
    };
    let (soft, hard) = match vals.split_once(':') {
        Some((s, h)) => (num(s)?, num(h)?),
        None => (num(vals)?, num(vals)?),
    };
    if soft > hard {
        return Err(bad("soft limit is above the hard limit"));
    }
    Ok(crate::model::Ulimit { name: name.to_string(), soft, hard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("-m", "512m").unwrap(), 512 << 20);
        assert_eq!(parse_bytes("-m", "1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("-m", "1GB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("-m", "4096").unwrap(), 4096);
        assert!(parse_bytes("-m", "lots").is_err());
        assert!(parse_bytes("-m", "-5m").is_err());
        assert_eq!(parse_cpus("1.5").unwrap(), 1_500_000_000);
        assert!(parse_cpus("0").is_err());
        assert!(parse_cpus("x").is_err());
        let u = parse_ulimit("nofile=100:200").unwrap();
        assert_eq!((u.soft, u.hard), (100, 200));
        assert!(parse_ulimit("nofile=300:200").is_err());
        assert!(parse_ulimit("files=1").is_err());
    }
}
