//! `hull images` (`image ls`): docker's columns, `--filter`, `--format`.

use serde_json::{json, Value};
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show all images (Hull keeps no intermediate images: the same list).
    #[arg(short, long)]
    all: bool,
    /// Only image ids.
    #[arg(short, long)]
    quiet: bool,
    /// Show manifest digests.
    #[arg(long)]
    digests: bool,
    /// Full ids.
    #[arg(long)]
    no_trunc: bool,
    /// Filter: dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE.
    #[arg(short, long)]
    filter: Vec<String>,
    /// `table`, `json`, `table TEMPLATE` or a Go template (`{{.Repository}}:{{.Tag}}`).
    #[arg(long)]
    format: Option<String>,
    /// Repository to list (`hull images busybox`).
    repository: Option<String>,
}

/// One `--filter`, checked.
enum Filter {
    Dangling(bool),
    Reference(String),
    Label(String, Option<String>),
    Before(i64),
    Since(i64),
}

fn parse_filter(images: &hull_image::images::Images, f: &str) -> anyhow::Result<Filter> {
    let (k, v) = f.split_once('=').ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value): {f}"))?;
    let created = |name: &str| -> anyhow::Result<i64> {
        let img = images.resolve(name).map_err(|_| anyhow::anyhow!("No such image: {name}"))?;
        Ok(img.config.created.as_deref().and_then(super::parse_time).unwrap_or(0))
    };
    Ok(match k {
        "dangling" => match v {
            "true" | "1" => Filter::Dangling(true),
            "false" | "0" => Filter::Dangling(false),
            _ => anyhow::bail!("invalid filter 'dangling={v}': want true or false"),
        },
        "reference" => Filter::Reference(v.to_string()),
        "label" => match v.split_once('=') {
            Some((k, val)) => Filter::Label(k.to_string(), Some(val.to_string())),
            None => Filter::Label(v.to_string(), None),
        },
        "before" => Filter::Before(created(v)?),
        "since" => Filter::Since(created(v)?),
        _ => anyhow::bail!("invalid filter '{k}'"),
    })
}

/// Docker's path.Match for references: `*` and `?` within one path
/// segment (never across `/`), everything else literal.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (text.first().is_some_and(|c| *c != b'/') && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

fn keep(i: &hull_image::images::ImageSummary, filters: &[Filter]) -> bool {
    let created = super::parse_time(&i.created).unwrap_or(0);
    filters.iter().all(|f| match f {
        Filter::Dangling(d) => (i.tag == "<none>") == *d,
        Filter::Reference(p) => {
            let full = format!("{}:{}", i.repository, i.tag);
            let short = i.repository.rsplit('/').next().unwrap_or(&i.repository);
            [i.repository.as_str(), full.as_str(), short, &format!("{short}:{}", i.tag)]
                .iter()
                .any(|t| glob(p.as_bytes(), t.as_bytes()))
        }
        Filter::Label(k, v) => i.labels.get(k).is_some_and(|have| v.as_ref().is_none_or(|v| v == have)),
        Filter::Before(t) => created < *t,
        Filter::Since(t) => created > *t,
    })
}

/// A row with docker's field names.
fn row(i: &hull_image::images::ImageSummary, no_trunc: bool) -> Value {
    let hex = i.id.strip_prefix("sha256:").unwrap_or(&i.id);
    let id = if no_trunc { i.id.clone() } else { hex.chars().take(12).collect() };
    let size = super::human_size(i.unpacked_size.unwrap_or(i.size));
    json!({
        "Repository": i.repository,
        "Tag": i.tag,
        "ID": id,
        "Digest": i.digest,
        "CreatedAt": i.created,
        "CreatedSince": super::ago(&i.created),
        "Size": size,
        "VirtualSize": size,
        "SharedSize": "N/A",
        "UniqueSize": "N/A",
        "Containers": "N/A",
    })
}

fn title(field: &str) -> String {
    match field {
        "ID" => "IMAGE ID".into(),
        "CreatedSince" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        other => other.to_ascii_uppercase(),
    }
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let mut filters: Vec<Filter> = a.filter.iter().map(|f| parse_filter(&images, f)).collect::<anyhow::Result<_>>()?;
    if let Some(r) = &a.repository {
        filters.push(Filter::Reference(r.clone()));
    }
    let _ = a.all;
    let mut list: Vec<_> = images.list()?.into_iter().filter(|i| keep(i, &filters)).collect();
    // Newest first, as docker.
    list.sort_by_key(|i| std::cmp::Reverse(super::parse_time(&i.created).unwrap_or(0)));
    let rows: Vec<Value> = list.iter().map(|i| row(i, a.no_trunc)).collect();
    if a.quiet {
        let mut seen = Vec::new();
        for r in &rows {
            let id = r["ID"].as_str().unwrap_or_default().to_string();
            if !seen.contains(&id) {
                println!("{id}");
                seen.push(id);
            }
        }
        return Ok(());
    }
    let table = if a.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    };
    let format = match a.format.as_deref() {
        None | Some("table") => table.to_string(),
        Some(f) => f.to_string(),
    };
    super::format::print(&format, &rows, &title)
}
