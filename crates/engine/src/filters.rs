//! docker's list filters, for every front end: the CLI's repeated
//! `--filter KEY=VALUE` and the API's `filters` query parameter (JSON,
//! `{"label":{"a=b":true}}`, or the older `{"label":["a=b"]}`). Within a key
//! any value may match, and every key must (docker's rule); labels are the
//! exception: every label filter must match. The container filters are
//! evaluated here, in [`Engine::list_containers`].

use crate::error::{EngineError, Result};
use crate::model::{Container, Status};
use crate::Engine;
use std::collections::BTreeMap;

/// Filters by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    by_key: BTreeMap<String, Vec<String>>,
}

impl Filters {
    /// `KEY=VALUE` filters, each key one of `allowed`.
    pub fn parse(given: &[String], allowed: &[&str]) -> Result<Filters> {
        let mut f = Filters::default();
        for g in given {
            match g.split_once('=') {
                Some((k, v)) => f.add(k, v, allowed)?,
                None => return Err(EngineError::Invalid(format!("bad format of filter (expected name=value): {g}"))),
            }
        }
        Ok(f)
    }

    /// The API's JSON form (empty text: no filter).
    pub fn from_json(text: &str, allowed: &[&str]) -> Result<Filters> {
        let mut f = Filters::default();
        if text.trim().is_empty() {
            return Ok(f);
        }
        let bad = || EngineError::Invalid(format!("invalid filter: {text}"));
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
        for (k, values) in v.as_object().ok_or_else(bad)? {
            match values {
                serde_json::Value::Object(m) => {
                    for (value, on) in m {
                        if on.as_bool() != Some(false) {
                            f.add(k, value, allowed)?;
                        }
                    }
                }
                serde_json::Value::Array(a) => {
                    for value in a {
                        f.add(k, value.as_str().ok_or_else(bad)?, allowed)?;
                    }
                }
                _ => return Err(bad()),
            }
        }
        Ok(f)
    }

    fn add(&mut self, k: &str, v: &str, allowed: &[&str]) -> Result<()> {
        if !allowed.contains(&k) {
            return Err(EngineError::Invalid(format!("invalid filter '{k}': filters are {}", allowed.join(", "))));
        }
        self.by_key.entry(k.into()).or_default().push(v.into());
        Ok(())
    }

    /// The values given for `key`.
    pub fn get(&self, key: &str) -> &[String] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Whether `key` was given.
    pub fn has(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Every key and its values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.by_key.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Whether any filter was given.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// docker's label rule on `labels`: every `label` value must match
    /// (`KEY` present, or `KEY=VALUE`).
    pub fn labels_match(&self, labels: &BTreeMap<String, String>) -> bool {
        self.get("label").iter().all(|v| match v.split_once('=') {
            Some((k, val)) => labels.get(k).is_some_and(|x| x == val),
            None => labels.contains_key(v),
        })
    }

    /// Whether any value of `key`, as an unanchored regular expression,
    /// matches one of `texts` (docker's `filters.Match`); true when the
    /// key is not given.
    pub fn regex_match(&self, key: &str, texts: &[&str]) -> Result<bool> {
        let values = self.get(key);
        if values.is_empty() {
            return Ok(true);
        }
        for v in values {
            let re = regex::Regex::new(v).map_err(|e| {
                EngineError::Invalid(format!("invalid filter {key}={v}: not a regular expression: {e}"))
            })?;
            if texts.iter().any(|t| re.is_match(t)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The keys `ps` and `GET /containers/json` filter on.
pub const CONTAINER_KEYS: &[&str] = &[
    "ancestor",
    "before",
    "expose",
    "exited",
    "health",
    "id",
    "is-task",
    "isolation",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

const STATUSES: &[&str] = &["created", "restarting", "running", "removing", "paused", "exited", "dead"];
const HEALTH: &[&str] = &["starting", "healthy", "unhealthy", "none"];

/// What to list (docker's `ps` and `GET /containers/json`).
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Stopped containers too.
    pub all: bool,
    /// Only the newest N (stopped ones included).
    pub limit: Option<usize>,
    /// The filters.
    pub filters: Filters,
}

fn port_key(v: &str) -> String {
    let (port, proto) = v.split_once('/').unwrap_or((v, "tcp"));
    format!("{port}/{proto}")
}

impl Engine {
    /// The containers `opts` select, newest first.
    pub fn list_containers(&self, opts: &ListOptions) -> Result<Vec<Container>> {
        let f = &opts.filters;
        for s in f.get("status") {
            if !STATUSES.contains(&s.as_str()) {
                return Err(EngineError::Invalid(format!("invalid filter 'status={s}'")));
            }
        }
        for h in f.get("health") {
            if !HEALTH.contains(&h.as_str()) {
                return Err(EngineError::Invalid(format!(
                    "invalid filter 'health={h}': want one of {}",
                    HEALTH.join(", ")
                )));
            }
        }
        let mut exited = Vec::new();
        for e in f.get("exited") {
            exited.push(e.parse::<i32>().map_err(|_| EngineError::Invalid(format!("invalid filter 'exited={e}'")))?);
        }
        for k in ["name", "id"] {
            f.regex_match(k, &[])?;
        }
        let mut list = self.list()?;
        list.reverse();
        let created_of = |key: &str| -> Result<String> {
            list.iter()
                .find(|c| c.name == key || c.id.starts_with(key))
                .map(|c| c.created.clone())
                .ok_or_else(|| EngineError::NoSuchContainer(key.to_string()))
        };
        let before: Vec<String> = f.get("before").iter().map(|k| created_of(k)).collect::<Result<_>>()?;
        let since: Vec<String> = f.get("since").iter().map(|k| created_of(k)).collect::<Result<_>>()?;
        let all = opts.all || opts.limit.is_some() || f.has("status") || f.has("exited");
        let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
            let v = f.get(key);
            v.is_empty() || v.iter().any(|x| pred(x))
        };
        let mut out = Vec::new();
        for c in &list {
            let live = matches!(c.state.status, Status::Running | Status::Paused | Status::Restarting);
            if !all && !live {
                continue;
            }
            // Times are RFC 3339 with nanoseconds in UTC: they order as text.
            let created = c.created.as_str();
            let name = c.name.as_str();
            let slashed = format!("/{name}");
            let ok = f.regex_match("name", &[name, &slashed])?
                && f.regex_match("id", &[&c.id])?
                && f.labels_match(&c.config.labels)
                && before.iter().all(|t| created < t.as_str())
                && since.iter().all(|t| created > t.as_str())
                && any("status", &|s| c.state.status.as_str() == s)
                && (exited.is_empty() || (c.state.status == Status::Exited && exited.contains(&c.state.exit_code)))
                && any("ancestor", &|a| self.descends_from(c, a))
                && any("network", &|n| {
                    c.config.network.to_string() == n || c.config.networks.iter().any(|a| a.network == n)
                })
                && any("volume", &|v| c.config.mounts.iter().any(|m| m.source == v || m.target == v))
                && any("publish", &|p| {
                    let key = port_key(p);
                    c.state.ports.iter().any(|b| format!("{}/{}", b.container_port, b.protocol) == key)
                        || c.config.ports.iter().any(|b| b.key() == key)
                })
                && any("expose", &|p| {
                    let key = port_key(p);
                    c.config.expose.contains(&key)
                        || c.config.ports.iter().any(|b| b.key() == key)
                        || self.image_exposes(c, &key)
                })
                && any("is-task", &|t| t == "false")
                && any("isolation", &|i| i == "default")
                && (!f.has("health") || {
                    let health = self.health(c).map_or_else(|| "none".to_string(), |h| h.status);
                    f.get("health").contains(&health)
                });
            if ok {
                out.push(c.clone());
            }
        }
        if let Some(n) = opts.limit {
            out.truncate(n);
        }
        Ok(out)
    }

    /// docker's `ancestor=`: the container's image by name (normalised:
    /// `busybox` is `docker.io/library/busybox:latest`) or by id.
    fn descends_from(&self, c: &Container, given: &str) -> bool {
        if c.config.image == given
            || (given.len() >= 4
                && c.config.image_id.trim_start_matches("sha256:").starts_with(given.trim_start_matches("sha256:")))
        {
            return true;
        }
        match (
            given.parse::<hull_image::reference::Reference>(),
            c.config.image.parse::<hull_image::reference::Reference>(),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.images.resolve(given).is_ok_and(|i| i.id.to_string() == c.config.image_id),
        }
    }

    fn image_exposes(&self, c: &Container, key: &str) -> bool {
        let image = self.images.resolve(&c.config.image_id).ok();
        let ports = image.and_then(|i| i.config.config).and_then(|c| c.exposed_ports).unwrap_or_default();
        ports.into_keys().any(|k| if k.contains('/') { k == key } else { format!("{k}/tcp") == key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_and_the_api_forms_agree() {
        let cli =
            Filters::parse(&["label=a=b".into(), "label=c".into(), "status=exited".into()], CONTAINER_KEYS).unwrap();
        let api =
            Filters::from_json(r#"{"label":{"a=b":true,"c":true},"status":{"exited":true}}"#, CONTAINER_KEYS).unwrap();
        let old = Filters::from_json(r#"{"label":["a=b","c"],"status":["exited"]}"#, CONTAINER_KEYS).unwrap();
        assert_eq!(cli, api);
        assert_eq!(api, old);
        assert!(Filters::from_json("", CONTAINER_KEYS).unwrap().is_empty());
        for bad in [r#"{"colour":["red"]}"#, "[1]", "{", r#"{"label":"x"}"#] {
            assert!(Filters::from_json(bad, CONTAINER_KEYS).is_err(), "{bad}");
        }
        let e = Filters::parse(&["colour=red".into()], CONTAINER_KEYS).unwrap_err().to_string();
        assert!(e.contains("invalid filter 'colour'"), "{e}");
        assert!(Filters::parse(&["status".into()], CONTAINER_KEYS).is_err());
    }

    #[test]
    fn labels_all_match_other_keys_any() {
        let f = Filters::parse(&["label=a=b".into(), "label=c".into()], CONTAINER_KEYS).unwrap();
        let mut labels: BTreeMap<String, String> = [("a".into(), "b".into())].into();
        assert!(!f.labels_match(&labels));
        labels.insert("c".into(), String::new());
        assert!(f.labels_match(&labels));
        let f = Filters::parse(&["name=^web$".into(), "name=db".into()], CONTAINER_KEYS).unwrap();
        assert!(f.regex_match("name", &["web"]).unwrap());
        assert!(f.regex_match("name", &["mydb1"]).unwrap());
        assert!(!f.regex_match("name", &["webapp"]).unwrap());
        assert!(Filters::parse(&["name=[".into()], CONTAINER_KEYS).unwrap().regex_match("name", &["x"]).is_err());
    }
}
