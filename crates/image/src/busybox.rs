//! Hull's offline default image: the host's busybox-static in one layer,
//! built straight into the store (no network, no other tool).

use crate::digest::Digest;
use crate::manifest::{
    Descriptor, ExecConfig, ImageConfig, Manifest, RootFs, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST,
};
use crate::store::{Store, StoreError};
use std::io::Write;
use std::path::Path;

/// The default image's reference.
pub const DEFAULT_IMAGE: &str = "localhost/hull/busybox:latest";

/// Building the image failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The host has no usable busybox.
    #[error("{0}")]
    Busybox(String),
    /// Writing the layer failed.
    #[error("build layer: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_mtime(0);
    h
}

/// The image's creation time: the busybox binary's mtime (still the same
/// digest for the same installed busybox), or the epoch if it has none.
fn created_from(busybox: &Path) -> String {
    let mtime = std::fs::metadata(busybox)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64);
    // Whole seconds written as Go writes them (no fraction): tools that
    // rewrite the config (skopeo) keep it byte for byte, and the id with it.
    hull_spec::time::rfc3339(mtime, 0).replace(".000000000Z", "Z")
}

/// Builds the image from `busybox` (a static binary) and stores it; returns
/// the manifest descriptor. The layer is reproducible: same busybox, same digest.
pub fn build(store: &Store, busybox: &Path) -> Result<Descriptor, BuildError> {
    let binary = std::fs::read(busybox).map_err(|e| BuildError::Busybox(format!("read {}: {e}", busybox.display())))?;
    let list = std::process::Command::new(busybox).arg("--list").output()?;
    if !list.status.success() {
        return Err(BuildError::Busybox(format!("{} --list failed; is it busybox?", busybox.display())));
    }
    let applets = String::from_utf8_lossy(&list.stdout).into_owned();
    let mut tar_bytes = Vec::new();
    {
        let mut t = tar::Builder::new(&mut tar_bytes);
        for d in ["bin", "dev", "etc", "home", "proc", "root", "run", "sys", "tmp", "usr", "usr/bin", "var", "var/tmp"]
        {
            let mode = if d.ends_with("tmp") { 0o1777 } else { 0o755 };
            t.append_data(&mut header(tar::EntryType::Directory, mode, 0), d, std::io::empty())?;
        }
        t.append_data(
            &mut header(tar::EntryType::Regular, 0o755, binary.len() as u64),
            "bin/busybox",
            binary.as_slice(),
        )?;
        for applet in applets.lines().filter(|a| !a.is_empty() && *a != "busybox") {
            let mut h = header(tar::EntryType::Symlink, 0o777, 0);
            t.append_link(&mut h, format!("bin/{applet}"), "busybox")?;
        }
        let files: [(&str, &str); 3] = [
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
            ("etc/group", "root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n"),
            ("etc/hostname", "hull\n"),
        ];
        for (name, body) in files {
            t.append_data(&mut header(tar::EntryType::Regular, 0o644, body.len() as u64), name, body.as_bytes())?;
        }
        t.finish()?;
    }
    let diff_id = Digest::sha256(&tar_bytes);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_bytes)?;
    let layer = gz.finish()?;
    let layer_digest = store.put_bytes(&layer)?;
    let config = ImageConfig {
        created: Some(created_from(busybox)),
        architecture: "amd64".into(),
        os: "linux".into(),
        config: Some(ExecConfig {
            env: Some(vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()]),
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        }),
        rootfs: RootFs { typ: "layers".into(), diff_ids: vec![diff_id] },
        // One entry per layer: tools that add steps (buildah, docker)
        // match history to layers.
        history: Some(vec![serde_json::json!({
            "created": created_from(busybox),
            "created_by": "hull image default: the host's busybox-static",
        })]),
        ..Default::default()
    };
    let config_bytes = serde_json::to_vec(&config).unwrap_or_default();
    let config_digest = store.put_bytes(&config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: config_digest,
            size: config_bytes.len() as u64,
            platform: None,
            annotations: None,
        },
        layers: vec![Descriptor {
            media_type: OCI_LAYER_GZIP.into(),
            digest: layer_digest,
            size: layer.len() as u64,
            platform: None,
            annotations: None,
        }],
        annotations: None,
    };
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let manifest_digest = store.put_bytes(&manifest_bytes)?;
    Ok(Descriptor {
        media_type: OCI_MANIFEST.into(),
        digest: manifest_digest,
        size: manifest_bytes.len() as u64,
        platform: None,
        annotations: None,
    })
}
