//! `hull image load`.

use anyhow::bail;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: a tar archive (docker-archive or oci-archive, plain, gzip
    /// or zstd), docker-archive:FILE, or oci:DIR[:NAME]; stdin when absent.
    #[arg(short, long)]
    input: Option<String>,
    /// Name to give the image (default: the archive's, or the layout's under localhost/).
    #[arg(short, long)]
    tag: Option<String>,
    /// Suppress the load output.
    #[arg(short, long)]
    quiet: bool,
}

/// Splits `oci:DIR[:NAME]`.
pub fn parse_oci(spec: &str) -> anyhow::Result<(PathBuf, Option<String>)> {
    let Some(rest) = spec.strip_prefix("oci:") else {
        bail!("{spec:?}: only OCI layouts (oci:DIR[:NAME]) are supported yet");
    };
    Ok(match rest.rsplit_once(':') {
        Some((dir, name)) if !name.contains('/') => (PathBuf::from(dir), Some(name.to_string())),
        _ => (PathBuf::from(rest), None),
    })
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let say = |t: &str| {
        if !a.quiet {
            println!("Loaded image: {t}");
        }
    };
    let input = a.input.clone().unwrap_or_else(|| "-".into());
    if input.starts_with("oci:") {
        let (dir, name) = parse_oci(&input)?;
        let tag = match (&a.tag, &name) {
            (Some(t), _) => t.clone(),
            (None, Some(n)) => format!(
                "localhost/{}:{n}",
                dir.file_name().map(|f| f.to_string_lossy().to_lowercase()).unwrap_or_default()
            ),
            (None, None) => bail!("{input}: name the image with --tag"),
        };
        let img = super::open(root)?.load_layout(&dir, name.as_deref(), &tag)?;
        say(&img.reference.map(|r| r.to_string()).unwrap_or(tag));
        return Ok(());
    }
    let images = super::open(root)?;
    // Spooled beside the store (same filesystem), removed however we end.
    let spool = tempfile::Builder::new().prefix(".load-").tempdir_in(root)?;
    let path = input.strip_prefix("docker-archive:").unwrap_or(&input);
    let tar = plain_tar(path, spool.path())?;
    match archive_kind(&tar)? {
        ArchiveKind::Docker => {
            for t in images.load_archive(&tar, a.tag.as_deref())? {
                say(&t.to_string());
            }
        }
        ArchiveKind::Oci => {
            let dir = spool.path().join("layout");
            tar::Archive::new(std::fs::File::open(&tar)?).unpack(&dir)?;
            let name = single_ref_name(&dir);
            let tag = match (&a.tag, &name) {
                (Some(t), _) => t.clone(),
                // podman writes the full reference; others a bare tag.
                (None, Some(n)) if n.contains('/') || n.contains(':') => n.clone(),
                (None, Some(n)) => format!("localhost/loaded:{n}"),
                (None, None) => bail!("the oci-archive names no image: name it with --tag"),
            };
            let img = images.load_layout(&dir, name.as_deref(), &tag)?;
            say(&img.reference.map(|r| r.to_string()).unwrap_or(tag));
        }
    }
    Ok(())
}

enum ArchiveKind {
    Docker,
    Oci,
}

/// The input as a plain tar file: the file itself, or stdin and
/// compressed input decompressed into `spool`.
fn plain_tar(path: &str, spool: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Read;
    let mut src: Box<dyn Read> = if path == "-" {
        if super::stdin_is_a_terminal() {
            bail!("requested load from stdin, but stdin is empty (a terminal): use -i FILE or redirect");
        }
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| anyhow::anyhow!("open {path}: {e}"))?)
    };
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        match src.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let whole = head.chain(src);
    let mut reader: Box<dyn Read> = match &magic[..n] {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::stream::read::Decoder::new(whole)?),
        [0xfd, b'7', b'z', b'X', b'Z', 0] => bail!("{path}: xz-compressed: decompress it first (xz -d)"),
        _ if path != "-" => return Ok(PathBuf::from(path)),
        _ => Box::new(whole),
    };
    let out = spool.join("archive.tar");
    let mut f = std::fs::File::create(&out)?;
    std::io::copy(&mut reader, &mut f).map_err(|e| anyhow::anyhow!("read {path}: {e}"))?;
    Ok(out)
}

/// docker-archive (manifest.json) or oci-archive (oci-layout, index.json).
fn archive_kind(tar: &Path) -> anyhow::Result<ArchiveKind> {
    let mut archive = tar::Archive::new(std::fs::File::open(tar)?);
    let (mut docker, mut oci) = (false, false);
    for entry in archive.entries().map_err(|e| anyhow::anyhow!("not a tar archive: {e}"))? {
        let entry = entry.map_err(|e| anyhow::anyhow!("not a tar archive: {e}"))?;
        let name = entry.path()?.to_string_lossy().trim_start_matches("./").to_string();
        docker |= name == "manifest.json";
        oci |= name == "oci-layout";
    }
    match (docker, oci) {
        (true, _) => Ok(ArchiveKind::Docker),
        (false, true) => Ok(ArchiveKind::Oci),
        _ => bail!("not an image archive: no manifest.json (docker-archive) or oci-layout (oci-archive) in it"),
    }
}

/// The ref.name of the layout's one image, if it has exactly one.
fn single_ref_name(dir: &Path) -> Option<String> {
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).ok()?).ok()?;
    let manifests = index["manifests"].as_array()?;
    let [one] = manifests.as_slice() else { return None };
    one["annotations"]["org.opencontainers.image.ref.name"].as_str().map(str::to_string)
}
