//! Detach keys, as docker has them: a sequence typed into an attached
//! container's stdin (Ctrl-P Ctrl-Q by default) that detaches the client
//! and leaves the container running. `--detach-keys` and the `detachKeys`
//! of docker's config file (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`) choose another; docker's syntax: a
//! comma-separated list of single characters and `ctrl-<value>`, value
//! being a letter or one of `@ [ \ ] ^ _`.

/// docker's default.
pub const DEFAULT: &str = "ctrl-p,ctrl-q";

/// Parses a key sequence.
pub fn parse(spec: &str) -> anyhow::Result<Vec<u8>> {
    let bad = || anyhow::anyhow!("Invalid detach keys ({spec}) provided");
    let mut keys = Vec::new();
    for key in spec.split(',') {
        match key.strip_prefix("ctrl-") {
            Some(v) if v.len() == 1 => {
                let c = v.as_bytes()[0].to_ascii_lowercase();
                keys.push(match c {
                    b'a'..=b'z' => c - b'a' + 1,
                    b'@' => 0,
                    b'[' => 27,
                    b'\\' => 28,
                    b']' => 29,
                    b'^' => 30,
                    b'_' => 31,
                    _ => return Err(bad()),
                });
            }
            Some(_) => return Err(bad()),
            None if key.len() == 1 => keys.push(key.as_bytes()[0]),
            None => return Err(bad()),
        }
    }
    Ok(keys)
}

/// The sequence to use: the flag, else the config file's, else docker's default.
pub fn chosen(flag: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let from_config = || -> Option<String> {
        let dir = std::env::var_os("DOCKER_CONFIG")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
        let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("detachKeys")?.as_str().map(str::to_string)
    };
    match flag.filter(|f| !f.is_empty()) {
        Some(f) => parse(f),
        None => parse(&from_config().filter(|c| !c.is_empty()).unwrap_or_else(|| DEFAULT.into())),
    }
}

/// Watches stdin for the sequence. Bytes that may begin it are held back
/// until they either complete it (detach) or turn out not to (sent on).
pub struct EscapeProxy {
    keys: Vec<u8>,
    held: usize,
}

impl EscapeProxy {
    /// A proxy for `keys` (none: never detaches).
    pub fn new(keys: Vec<u8>) -> EscapeProxy {
        EscapeProxy { keys, held: 0 }
    }

    /// What of `input` goes to the container, and whether the sequence was typed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.is_empty() {
                out.push(b);
                continue;
            }
            if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    self.held = 0;
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if b == self.keys[0] {
                self.held = 1;
                if self.keys.len() == 1 {
                    self.held = 0;
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dockers_syntax() {
        assert_eq!(parse(DEFAULT).unwrap(), vec![16, 17]);
        assert_eq!(parse("ctrl-a,x,ctrl-@,ctrl-\\").unwrap(), vec![1, b'x', 0, 28]);
        for bad in ["ctrl-", "ctrl-ab", "xy", "ctrl-1", ""] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn holds_a_prefix_and_detaches_on_the_whole_sequence() {
        let mut p = EscapeProxy::new(parse(DEFAULT).unwrap());
        assert_eq!(p.feed(b"ab\x10"), (b"ab".to_vec(), false));
        // Not the sequence after all: the held Ctrl-P goes on.
        assert_eq!(p.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(p.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(p.feed(b"\x11rest"), (vec![], true));
        let mut none = EscapeProxy::new(vec![]);
        assert_eq!(none.feed(b"\x10\x11"), (b"\x10\x11".to_vec(), false));
    }
}
