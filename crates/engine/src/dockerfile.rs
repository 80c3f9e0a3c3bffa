//! Dockerfile words the engine acts on: variable expansion by Dockerfile's
//! rules, and the instructions that change only an image's config (CMD,
//! ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, ...),
//! shared by `commit --change`, `import --change` and the builder. The
//! Dockerfile itself is parsed by `parse-dockerfile`.

use crate::error::{EngineError, Result};
use hull_image::manifest::ExecConfig;
use std::collections::BTreeMap;

fn bad(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alternative}`
/// from `vars`, with `escape` (`\` or the `# escape=` directive's) quoting
/// the next character. Unknown variables expand to nothing.
pub fn expand(text: &str, vars: &dyn Fn(&str) -> Option<String>, escape: char) -> Result<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && i + 1 < chars.len() {
            // An escaped `$` stays literal; other escapes stay for the
            // shell or the word splitter to see.
            if chars[i + 1] == '$' {
                out.push('$');
            } else {
                out.push(c);
                out.push(chars[i + 1]);
            }
            i += 2;
            continue;
        }
        if c != '$' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        if chars[i + 1] == '{' {
            let end = chars[i + 2..]
                .iter()
                .position(|c| *c == '}')
                .map(|p| p + i + 2)
                .ok_or_else(|| bad(format!("missing '}}' in {text:?}")))?;
            let inner: String = chars[i + 2..end].iter().collect();
            let (name, op) = match inner.find(':') {
                Some(p) => (&inner[..p], Some(&inner[p..])),
                None => (inner.as_str(), None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(format!("bad substitution ${{{inner}}} in {text:?}")));
            }
            let value = vars(name).filter(|v| !v.is_empty());
            match op {
                None => out.push_str(&vars(name).unwrap_or_default()),
                Some(op) if op.starts_with(":-") => match value {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&expand(&op[2..], vars, escape)?),
                },
                Some(op) if op.starts_with(":+") => {
                    if value.is_some() {
                        out.push_str(&expand(&op[2..], vars, escape)?)
                    }
                }
                Some(op) => return Err(bad(format!("unsupported modifier ({op}) in substitution {text:?}"))),
            }
            i = end + 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        if end == start {
            out.push('$');
            i += 1;
            continue;
        }
        let name: String = chars[start..end].iter().collect();
        out.push_str(&vars(&name).unwrap_or_default());
        i = end;
    }
    Ok(out)
}

/// Splits shell-like words: quotes group, `escape` quotes one character
/// (outside single quotes); quotes and escapes are removed.
pub fn words(text: &str, escape: char) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == escape => {
                if let Some(n) = it.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c == escape => {
                if let Some(n) = it.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(bad(format!("unmatched quote in {text:?}")));
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `KEY=VALUE ...` (or the old `KEY VALUE` form) of ENV, LABEL and ARG.
pub fn key_values(text: &str, escape: char, what: &str) -> Result<Vec<(String, String)>> {
    let ws = words(text, escape)?;
    if ws.is_empty() {
        return Err(bad(format!("{what} requires at least one argument")));
    }
    if !ws[0].contains('=') {
        // `ENV KEY rest of the line`
        let (k, rest) = text.trim().split_once(char::is_whitespace).unwrap_or((text.trim(), ""));
        if rest.trim().is_empty() && what != "ARG" {
            return Err(bad(format!("{what} names must be followed by a value: {text:?}")));
        }
        return Ok(vec![(k.to_string(), rest.trim().to_string())]);
    }
    ws.into_iter()
        .map(|w| match w.split_once('=') {
            Some(("", _)) => Err(bad(format!("{what} names can not be blank"))),
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(bad(format!("{what}: {w:?} is not KEY=VALUE"))),
        })
        .collect()
}

/// A command in exec form (`["a", "b"]`) or shell form (run by `shell`).
pub fn command(text: &str, shell: &[String]) -> Vec<String> {
    let t = text.trim();
    if t.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(t) {
            return v;
        }
    }
    shell.iter().cloned().chain(std::iter::once(t.to_string())).collect()
}

/// The shell of shell-form commands when the image names none.
pub fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

/// Sets or replaces `KEY=value` in an image's Env.
pub fn set_env(cfg: &mut ExecConfig, key: &str, value: &str) {
    let env = cfg.env.get_or_insert_with(Vec::new);
    env.retain(|e| e.split('=').next() != Some(key));
    env.push(format!("{key}={value}"));
}

/// A variable of the image's Env.
pub fn env_value(cfg: &ExecConfig, key: &str) -> Option<String> {
    cfg.env.as_ref()?.iter().rev().find_map(|e| e.strip_prefix(key)?.strip_prefix('=').map(str::to_string))
}

/// Applies a config-only instruction (`keyword` upper-case, `args` with its
/// variables already expanded). False when `keyword` is not one.
pub fn apply(cfg: &mut ExecConfig, keyword: &str, args: &str, shell: &[String], escape: char) -> Result<bool> {
    match keyword {
        "CMD" => cfg.cmd = Some(command(args, shell)),
        "ENTRYPOINT" => {
            cfg.entrypoint = Some(command(args, shell));
            // docker: a new ENTRYPOINT drops the CMD inherited with it.
            cfg.cmd = None;
        }
        "ENV" => {
            for (k, v) in key_values(args, escape, "ENV")? {
                set_env(cfg, &k, &v);
            }
        }
        "LABEL" => {
            let labels = cfg.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in key_values(args, escape, "LABEL")? {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = cfg.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in words(args, escape)? {
                let (port, proto) = p.split_once('/').unwrap_or((&p, "tcp"));
                let ok = !port.is_empty()
                    && port.split('-').all(|n| n.parse::<u16>().is_ok())
                    && matches!(proto, "tcp" | "udp" | "sctp");
                if !ok {
                    return Err(bad(format!("invalid EXPOSE {p:?}: want PORT[/tcp|udp|sctp]")));
                }
                ports.insert(format!("{port}/{proto}"), serde_json::json!({}));
            }
        }
        "VOLUME" => {
            let list: Vec<String> = match serde_json::from_str::<Vec<String>>(args.trim()) {
                Ok(v) => v,
                Err(_) => words(args, escape)?,
            };
            if list.is_empty() || list.iter().any(|v| v.is_empty()) {
                return Err(bad("VOLUME specified can not be an empty string"));
            }
            let vols = cfg.volumes.get_or_insert_with(BTreeMap::new);
            for v in list {
                vols.insert(v, serde_json::json!({}));
            }
        }
        "USER" => {
            let u = args.trim();
            if u.is_empty() {
                return Err(bad("USER requires exactly one argument"));
            }
            cfg.user = Some(u.to_string());
        }
        "WORKDIR" => {
            let w = args.trim();
            if w.is_empty() {
                return Err(bad("WORKDIR requires exactly one argument"));
            }
            let base = cfg.working_dir.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| "/".into());
            let joined =
                if w.starts_with('/') { std::path::PathBuf::from(w) } else { std::path::Path::new(&base).join(w) };
            cfg.working_dir = Some(joined.display().to_string());
        }
        "STOPSIGNAL" => {
            let s = args.trim();
            s.parse::<crate::model::Signal>()?;
            cfg.stop_signal = Some(s.to_string());
        }
        "ONBUILD" => {
            let next = args.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            if matches!(next.as_str(), "ONBUILD" | "FROM" | "MAINTAINER" | "") {
                return Err(bad(format!("{next} isn't allowed as an ONBUILD trigger")));
            }
            cfg.on_build.get_or_insert_with(Vec::new).push(args.trim().to_string());
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// docker's `--change` lines (commit, import): `INSTRUCTION args`, only
/// those that change the config.
pub fn apply_changes(cfg: &mut ExecConfig, changes: &[String]) -> Result<()> {
    for line in changes.iter().flat_map(|c| c.lines()).map(str::trim).filter(|l| !l.is_empty()) {
        let (kw, args) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let kw = kw.to_ascii_uppercase();
        let allowed =
            ["CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"];
        if !allowed.contains(&kw.as_str()) {
            return Err(bad(format!("{kw} is not a valid change command")));
        }
        let env = cfg.clone();
        let args = expand(args, &|k| env_value(&env, k), '\\')?;
        apply(cfg, &kw, &args, &default_shell(), '\\')?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_expand_by_dockerfiles_rules() {
        let vars = |k: &str| match k {
            "A" => Some("x".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let e = |s: &str| expand(s, &vars, '\\').unwrap();
        assert_eq!(e("$A/${A}/$B-"), "x/x/-");
        assert_eq!(e("${B:-def} ${A:-def} ${EMPTY:-def}"), "def x def");
        assert_eq!(e("${A:+alt}|${B:+alt}|${EMPTY:+alt}"), "alt||");
        assert_eq!(e(r"\$A costs $"), "$A costs $");
        assert_eq!(expand("`$A and $A", &vars, '`').unwrap(), "$A and x");
        assert!(expand("${A", &vars, '\\').is_err());
        assert!(expand("${A:?x}", &vars, '\\').is_err());
    }

    #[test]
    fn config_instructions_and_changes() {
        let mut c = ExecConfig::default();
        apply_changes(
            &mut c,
            &[
                "CMD [\"sleep\", \"1\"]".into(),
                "ENV A=1 B=\"two words\"".into(),
                "ENV C $A-x".into(),
                "EXPOSE 80 53/udp".into(),
                "WORKDIR /srv".into(),
                "WORKDIR app".into(),
                "LABEL team=db".into(),
            ],
        )
        .unwrap();
        assert_eq!(c.cmd, Some(vec!["sleep".to_string(), "1".to_string()]));
        assert_eq!(env_value(&c, "B").as_deref(), Some("two words"));
        assert_eq!(env_value(&c, "C").as_deref(), Some("1-x"));
        assert_eq!(c.working_dir.as_deref(), Some("/srv/app"));
        assert!(c.exposed_ports.as_ref().unwrap().contains_key("53/udp"));
        assert_eq!(c.labels.as_ref().unwrap()["team"], "db");
        apply_changes(&mut c, &["CMD echo hi".into()]).unwrap();
        assert_eq!(c.cmd, Some(vec!["/bin/sh".to_string(), "-c".to_string(), "echo hi".to_string()]));
        assert!(apply_changes(&mut c, &["RUN true".into()]).unwrap_err().to_string().contains("RUN"));
        assert!(apply_changes(&mut c, &["EXPOSE 80/xyz".into()]).is_err());
        assert!(apply_changes(&mut c, &["STOPSIGNAL NOPE".into()]).is_err());
    }
}
