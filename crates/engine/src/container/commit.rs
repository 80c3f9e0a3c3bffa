//! A container's filesystem as image material: `commit` (its changes as a
//! new layer over its image), `changes` (`docker diff`), `export` (its
//! whole root as one tar) and `import` (a tar as a one-layer image).

use crate::db::Row;
use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::Engine;
use hull_image::diff::{Change, ChangeKind, LayerOptions};
use hull_image::images::{CommitRequest, Image};
use hull_image::manifest::ExecConfig;
use std::io::{Read, Write};

/// What `commit` takes besides the container.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `REPO[:TAG]` of the new image (none: a `<none>` image).
    pub reference: Option<String>,
    /// Its author.
    pub author: Option<String>,
    /// The history comment.
    pub comment: Option<String>,
    /// docker's `--change` instructions.
    pub changes: Vec<String>,
    /// Freeze a running container while its layer is written (docker's
    /// default).
    pub pause: bool,
    /// Replaces the config the container gives the image (the API's body).
    pub config: Option<ExecConfig>,
    /// How the layer is written (compression, SOURCE_DATE_EPOCH).
    pub layer: LayerOptions,
    /// What the history says made it (default: docker's commit line).
    pub created_by: Option<String>,
}

fn image_error(e: impl Into<hull_image::images::ImageError>) -> EngineError {
    EngineError::Image(e.into())
}

fn diff_error(e: hull_image::diff::DiffError) -> EngineError {
    EngineError::Invalid(e.to_string())
}

impl Engine {
    /// The container's settings over its image's, as an image config.
    pub(crate) fn config_of(&self, row: &Row, image: &Image) -> ExecConfig {
        let c = &row.config;
        let mut cfg = image.config.config.clone().unwrap_or_default();
        for kv in &c.env {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            crate::dockerfile::set_env(&mut cfg, k, v);
        }
        if !c.labels.is_empty() {
            cfg.labels.get_or_insert_with(Default::default).extend(c.labels.clone());
        }
        if c.entrypoint.is_some() {
            cfg.entrypoint = c.entrypoint.clone();
            cfg.cmd = None;
        }
        if c.cmd.is_some() {
            cfg.cmd = c.cmd.clone();
        }
        if let Some(u) = &c.user {
            cfg.user = Some(u.clone());
        }
        if let Some(w) = &c.workdir {
            cfg.working_dir = Some(w.clone());
        }
        for key in c.ports.iter().map(|p| p.key()).chain(c.expose.iter().cloned()) {
            cfg.exposed_ports.get_or_insert_with(Default::default).entry(key).or_insert_with(|| serde_json::json!({}));
        }
        if let Some(s) = &c.stop_signal {
            cfg.stop_signal = Some(s.to_string());
        }
        cfg
    }

    /// The config a commit of the container gives its image (before any
    /// `--change`).
    pub fn commit_config(&self, key: &str) -> Result<ExecConfig> {
        let row = self.refreshed(key)?;
        let image = self.image_of(&row)?;
        Ok(self.config_of(&row, &image))
    }

    /// Commits the container's changes as a new image over its own.
    pub fn commit(&self, key: &str, opts: CommitOptions) -> Result<Image> {
        let row = self.refreshed(key)?;
        if row.state.status == Status::Removing {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "cannot commit a container being removed".into(),
            });
        }
        let tag = match &opts.reference {
            Some(r) => {
                let r: hull_image::reference::Reference = r.parse().map_err(image_error)?;
                if r.digest.is_some() {
                    return Err(EngineError::Invalid(format!("invalid reference {r}: a commit cannot carry a digest")));
                }
                Some(r)
            }
            None => None,
        };
        let image = self.image_of(&row)?;
        let mut config = opts.config.clone().unwrap_or_else(|| self.config_of(&row, &image));
        crate::dockerfile::apply_changes(&mut config, &opts.changes)?;
        let upper = self.container_dir(&row.id).join("upper");
        let paused = opts.pause && row.state.status == Status::Running;
        if paused {
            self.pause(&row.id)?;
        }
        let _lease = self.images.store.ingest_lease().map_err(image_error)?;
        let layer = hull_image::diff::write_layer(&self.images.store, &upper, &opts.layer);
        if paused {
            if let Err(e) = self.unpause(&row.id) {
                tracing::warn!(container = %row.id, "commit: unpause: {e}");
            }
        }
        let layer = layer.map_err(diff_error)?;
        let created_by = opts
            .created_by
            .clone()
            .unwrap_or_else(|| format!("{} {}", "/bin/sh -c #(nop) commit", row.config.command.join(" ")));
        let img = self
            .images
            .commit(CommitRequest {
                parent: Some(&image),
                layer: Some(&layer),
                config,
                author: opts.author.clone(),
                created_by,
                comment: opts.comment.clone(),
                created: created_at(opts.layer.source_date_epoch),
                tag: tag.clone(),
            })
            .map_err(image_error)?;
        let name = tag.map(|t| t.to_string()).unwrap_or_else(|| img.id.to_string());
        self.emit_container(&row, "commit", &[("imageID", img.id.to_string())]);
        self.emit("image", "tag", &img.id.to_string(), [("name".to_string(), name)].into());
        Ok(img)
    }

    /// What changed in the container's filesystem since its image
    /// (`docker diff`), in path order.
    pub fn changes(&self, key: &str) -> Result<Vec<Change>> {
        let row = self.refreshed(key)?;
        let image = self.image_of(&row)?;
        let mut layers = self.images.layers(&image)?;
        layers.reverse();
        let roots: Vec<hull_rootpath::Root> = layers.iter().filter_map(|l| hull_rootpath::Root::open(l).ok()).collect();
        let below = |p: &std::path::Path| roots.iter().any(|r| r.exists(p));
        let upper = self.container_dir(&row.id).join("upper");
        let mut all = hull_image::diff::changes(&upper, &below).map_err(diff_error)?;
        // What the engine itself writes for every container is not the
        // container's change (docker leaves out its own files too).
        all.retain(|c| !(c.kind == ChangeKind::Modified && c.path == "/"));
        Ok(all)
    }

    /// The container's whole filesystem (without its volumes and binds) as
    /// one tar written to `out`.
    pub fn export(&self, key: &str, out: &mut dyn Write) -> Result<()> {
        let row = self.refreshed(key)?;
        let rootfs = self.container_dir(&row.id).join("rootfs");
        if !crate::is_mounted(&rootfs) {
            let _lock = self.lock(&row.id)?;
            let image = self.image_of(&row)?;
            self.prepare(&row, &image)?;
        }
        hull_image::diff::write_tree(&rootfs, out).map_err(diff_error)?;
        self.emit_container(&row, "export", &[]);
        Ok(())
    }

    /// A tar (plain, gzip or zstd) as a one-layer image, with docker's
    /// `--change` instructions and a history message.
    pub fn import(
        &self,
        input: &mut dyn Read,
        reference: Option<&str>,
        changes: &[String],
        message: Option<&str>,
    ) -> Result<Image> {
        let tag = match reference {
            Some(r) => Some(r.parse::<hull_image::reference::Reference>().map_err(image_error)?),
            None => None,
        };
        let mut config = ExecConfig::default();
        crate::dockerfile::apply_changes(&mut config, changes)?;
        let _lease = self.images.store.ingest_lease().map_err(image_error)?;
        let layer = hull_image::diff::import_tar(&self.images.store, input).map_err(diff_error)?;
        let img = self
            .images
            .commit(CommitRequest {
                parent: None,
                layer: Some(&layer),
                config,
                author: None,
                created_by: "Imported from -".into(),
                comment: message.map(str::to_string),
                created: hull_shim::config::now_rfc3339(),
                tag: tag.clone(),
            })
            .map_err(image_error)?;
        let name = tag.map(|t| t.to_string()).unwrap_or_else(|| img.id.to_string());
        self.emit("image", "import", &img.id.to_string(), [("name".to_string(), name)].into());
        Ok(img)
    }
}

/// An image's creation time: now, or SOURCE_DATE_EPOCH for reproducible images.
pub(crate) fn created_at(epoch: Option<i64>) -> String {
    match epoch {
        Some(e) => hull_spec::time::rfc3339(e.max(0), 0).replace(".000000000Z", "Z"),
        None => hull_shim::config::now_rfc3339(),
    }
}
