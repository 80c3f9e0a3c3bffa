//! Container ids (64 hex digits) and generated names (`adjective_noun`, as
//! docker makes them).

use std::io::Read;

/// A fresh 64-hex id.
pub fn new_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

const LEFT: &[&str] = &[
    "admiring",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "festive",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "mystifying",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
    "youthful",
    "zealous",
    "bold",
    "calm",
    "dreamy",
    "elastic",
    "focused",
    "great",
    "hopeful",
    "inspiring",
];

const RIGHT: &[&str] = &[
    "albattani",
    "bohr",
    "curie",
    "darwin",
    "euclid",
    "fermi",
    "galileo",
    "hopper",
    "jepsen",
    "kepler",
    "lovelace",
    "meitner",
    "newton",
    "noether",
    "pascal",
    "raman",
    "shannon",
    "tesla",
    "turing",
    "volta",
    "wozniak",
    "yalow",
    "zhukovsky",
    "archimedes",
    "babbage",
    "cerf",
    "dijkstra",
    "einstein",
    "feynman",
    "goldberg",
    "hawking",
    "knuth",
];

/// A random `adjective_noun` name; `n` > 0 appends a digit, as docker does on a clash.
pub fn random_name(seed: &str, n: u32) -> String {
    let byte = |i: usize| u8::from_str_radix(seed.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0) as usize;
    let name = format!("{}_{}", LEFT[byte(0) % LEFT.len()], RIGHT[byte(2) % RIGHT.len()]);
    if n == 0 {
        name
    } else {
        format!("{name}{}", byte(4 + 2 * n as usize) % 10)
    }
}

/// Whether `name` is a valid container name (docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        let id = super::new_id().unwrap();
        assert_eq!(id.len(), 64);
        assert!(super::valid_name(&super::random_name(&id, 0)));
        assert!(super::valid_name("web-1.a_b"));
        assert!(!super::valid_name("-web"));
        assert!(!super::valid_name("a"));
        assert!(!super::valid_name("we b"));
    }
}
