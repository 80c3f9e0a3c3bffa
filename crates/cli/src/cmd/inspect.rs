//! `hull image inspect`.

use serde_json::json;
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Format output: json or a Go template (`{{.Id}}`, `{{.Config.Env}}`, ...).
    #[arg(short = 'f', long)]
    format: Option<String>,
    /// Images (name, id or id prefix).
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let out = values(root, &a.images)?;
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&out)?),
        Some(f) => super::format::print(f, &out, &|f| f.to_string())?,
    }
    Ok(())
}

/// docker's image inspect objects for `names`.
pub fn values(root: &Path, names: &[String]) -> anyhow::Result<Vec<serde_json::Value>> {
    let images = super::open(root)?;
    let tags = images.store.tags()?;
    let mut out = Vec::new();
    for name in names {
        let img = images.resolve(name)?;
        let repo_tags: Vec<String> = tags
            .iter()
            .filter(|(_, d)| **d == img.target)
            .filter_map(|(t, _)| t.parse::<hull_image::reference::Reference>().ok())
            .map(|r| format!("{}:{}", r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        let repo_digests: Vec<String> =
            img.reference.iter().map(|r| format!("{}@{}", r.familiar_name(), img.target)).collect();
        let exec = img.config.config.clone().unwrap_or_default();
        out.push(json!({
            "Id": img.id.to_string(),
            "RepoTags": repo_tags,
            "RepoDigests": repo_digests,
            "Created": img.config.created,
            "Author": img.config.author,
            "Architecture": img.config.architecture,
            "Os": img.config.os,
            "Variant": img.config.variant,
            "Config": exec,
            "Size": img.manifest.layers.iter().map(|l| l.size).sum::<u64>(),
            "RootFS": {"Type": img.config.rootfs.typ, "Layers": img.config.rootfs.diff_ids},
            "Manifest": img.manifest_digest.to_string(),
        }));
    }
    Ok(out)
}
