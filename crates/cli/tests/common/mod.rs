//! Shared by the image root tests: tar and image builders, the hull
//! runner, a private-mount-namespace shell, Debian's docker-registry, and a
//! bearer-token registry test double.

#![allow(dead_code, unused_imports)]

pub use hull_image::digest::Digest;
pub use hull_image::manifest::{
    Descriptor, ImageConfig, Manifest, RootFs, OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST,
};
pub use hull_image::reference::Reference;
pub use hull_image::store::Store;
pub use std::io::Write;
pub use std::path::Path;
pub use std::process::{Command, Output};

pub mod daemon;
pub mod env;
pub use daemon::*;
pub use env::*;

pub const HULL: &str = env!("CARGO_BIN_EXE_hull");

/// hull with its state under `root` (run state beside it, cgroups under a
/// test parent, the shim built beside hull).
pub fn hull(root: &Path, args: &[&str]) -> Output {
    hull_command(root).args(args).output().unwrap()
}

/// The command `hull` runs as, before its arguments.
pub fn hull_command(root: &Path) -> Command {
    hull_command_in(root, None)
}

/// `hull` run inside the named network namespace (one the test made with
/// `ip netns add`), so its bridges, NAT rules and containers live there.
pub fn hull_command_in(root: &Path, netns: Option<&str>) -> Command {
    let mut c = match netns {
        Some(n) => {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net=/run/netns/{n}")).arg(HULL);
            c
        }
        None => Command::new(HULL),
    };
    c.env("HULL_CGROUP_PARENT", format!("/hull-test-{}", std::process::id()))
        .env("HULL_SHIM", Path::new(HULL).with_file_name("hull-shim"))
        .arg("--root")
        .arg(root)
        .arg("--run-root")
        .arg(root.with_extension("run"));
    c
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One tar entry with a raw name (the tar crate refuses unsafe names, which
/// is exactly what these tests need to write).
pub struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    link: Option<&'a str>,
    data: &'a [u8],
    mode: u32,
    owner: (u64, u64),
}

impl<'a> Entry<'a> {
    /// The entry owned by uid:gid with this mode.
    pub fn owned(self, uid: u64, gid: u64, mode: u32) -> Entry<'a> {
        Entry { owner: (uid, gid), mode, ..self }
    }
}

pub fn file<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name, kind: tar::EntryType::Regular, link: None, data, mode: 0o644, owner: (0, 0) }
}

/// An executable file.
pub fn exe<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name, kind: tar::EntryType::Regular, link: None, data, mode: 0o755, owner: (0, 0) }
}

pub fn dir(name: &str) -> Entry<'_> {
    Entry { name, kind: tar::EntryType::Directory, link: None, data: b"", mode: 0o755, owner: (0, 0) }
}

pub fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Entry<'a> {
    Entry { name, kind, link: Some(target), data: b"", mode: 0o644, owner: (0, 0) }
}

pub fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_old();
        let name = e.name.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        if let Some(l) = e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(e.owner.0);
        h.set_gid(e.owner.1);
        h.set_size(e.data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Stores an image made of these uncompressed layers and tags it.
pub fn store_image(root: &Path, reference: &str, layers: &[Vec<u8>], gzip_first: bool) -> Digest {
    let first = if gzip_first { LayerCompression::Gzip } else { LayerCompression::None };
    store_image_compressed(root, reference, layers, first)
}

/// How [`store_image_compressed`] stores the first layer (the rest stay plain tars).
#[derive(Clone, Copy, PartialEq)]
pub enum LayerCompression {
    /// Plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

/// Stores an image whose first layer is compressed as asked, and tags it.
pub fn store_image_compressed(root: &Path, reference: &str, layers: &[Vec<u8>], first: LayerCompression) -> Digest {
    store_image_with(root, reference, layers, first, None)
}

/// Stores an image as [`store_image_compressed`] does, with `exec` as its
/// config's container settings (Cmd, ExposedPorts, ...).
pub fn store_image_with(
    root: &Path,
    reference: &str,
    layers: &[Vec<u8>],
    first: LayerCompression,
    exec: Option<hull_image::manifest::ExecConfig>,
) -> Digest {
    let store = Store::open(root.join("image")).unwrap();
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        diff_ids.push(Digest::sha256(l));
        let compression = if i == 0 { first } else { LayerCompression::None };
        let (blob, mt) = match compression {
            LayerCompression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(l).unwrap();
                (gz.finish().unwrap(), OCI_LAYER_GZIP)
            }
            LayerCompression::Zstd => (zstd::encode_all(&l[..], 3).unwrap(), hull_image::manifest::OCI_LAYER_ZSTD),
            LayerCompression::None => (l.clone(), OCI_LAYER_TAR),
        };
        let d = store.put_bytes(&blob).unwrap();
        descs.push(Descriptor {
            media_type: mt.into(),
            digest: d,
            size: blob.len() as u64,
            platform: None,
            annotations: None,
        });
    }
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs { typ: "layers".into(), diff_ids },
        config: exec,
        ..Default::default()
    };
    let cb = serde_json::to_vec(&config).unwrap();
    let cd = store.put_bytes(&cb).unwrap();
    let m = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: cd,
            size: cb.len() as u64,
            platform: None,
            annotations: None,
        },
        layers: descs,
        annotations: None,
    };
    let mb = serde_json::to_vec(&m).unwrap();
    let md = store.put_bytes(&mb).unwrap();
    let lock = store.lock().unwrap();
    store.tag(&reference.parse::<Reference>().unwrap(), &md, &lock).unwrap();
    md
}

/// `umoci unpack` of an OCI layout's image (`DIR:TAG`) into a bundle.
pub fn umoci_unpack(image: &str, bundle: &Path) {
    let out = Command::new("umoci").args(["unpack", "--image", image]).arg(bundle).output().unwrap();
    assert!(out.status.success(), "umoci: {}", text(&out.stderr));
}

/// Runs a shell script in a private mount namespace (mounts vanish with it).
pub fn in_private_mounts(script: &str) -> Output {
    Command::new("unshare").args(["-m", "--propagation", "private", "/bin/sh", "-c", script]).output().unwrap()
}

/// Debian's docker-registry on 127.0.0.1 and a free port, storage in a
/// temp dir, optionally behind htpasswd basic auth; stopped on drop.
pub struct Registry {
    child: std::process::Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
}

impl Registry {
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        Registry::start_in(None, auth)
    }

    /// In a network namespace of the test's (where a daemon under test
    /// runs), on its loopback's port 5000.
    pub fn start_in(netns: Option<&str>, auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = match netns {
            Some(_) => 5000,
            None => std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(),
        };
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            let htpasswd = dir.path().join("htpasswd");
            let st = Command::new("htpasswd").args(["-Bbc"]).arg(&htpasswd).args([user, pass]).output().unwrap();
            assert!(st.status.success(), "htpasswd: {}", text(&st.stderr));
            config.push_str(&format!("auth:\n  htpasswd:\n    realm: hull-test\n    path: {}\n", htpasswd.display()));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let mut cmd = match netns {
            Some(n) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{n}")).arg("docker-registry");
                c
            }
            None => Command::new("docker-registry"),
        };
        let child = cmd
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let up = || match netns {
            Some(n) => Command::new("nsenter")
                .arg(format!("--net=/run/netns/{n}"))
                .args(["curl", "-s", "-o", "/dev/null", &format!("http://{addr}/v2/")])
                .status()
                .is_ok_and(|s| s.success()),
            None => std::net::TcpStream::connect(&addr).is_ok(),
        };
        for _ in 0..200 {
            if up() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Registry { child, addr, dir }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hull_env(root: &Path, docker_config: &Path, args: &[&str]) -> Output {
    Command::new(HULL).env("DOCKER_CONFIG", docker_config).arg("--root").arg(root).args(args).output().unwrap()
}

/// TEST DOUBLE: a registry that only answers with a bearer token from its
/// own token endpoint (Debian packages no token server, and the real
/// registry's JWT trust set-up is not what is under test here: the client's
/// challenge → token → retry flow is). It serves one image from a Hull store.
pub fn bearer_registry_double(
    store_root: &Path,
    manifest: Digest,
    user: &'static str,
    pass: &'static str,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let blobs = store_root.join("image/blobs/sha256");
    let realm = format!("http://{addr}/token");
    let handle = std::thread::spawn(move || {
        use base64::Engine;
        let mut log = Vec::new();
        let good_basic =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")));
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            if request.starts_with("STOP") {
                break;
            }
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Authorization: ").or_else(|| line.strip_prefix("authorization: ")) {
                    auth = v.trim().to_string();
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.push(format!(
                "{} {}",
                path.split('?').next().unwrap_or(""),
                if auth.is_empty() { "-" } else { auth.split(' ').next().unwrap() }
            ));
            let respond = |s: &mut std::net::TcpStream, status: &str, headers: &str, body: &[u8]| {
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).unwrap();
                s.write_all(body).unwrap();
            };
            if path.starts_with("/token") {
                if auth == good_basic {
                    respond(&mut stream, "200 OK", "Content-Type: application/json\r\n", br#"{"token":"t0k3n"}"#);
                } else {
                    respond(&mut stream, "401 Unauthorized", "", b"");
                }
                continue;
            }
            if auth != "Bearer t0k3n" {
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"double\",scope=\"repository:app:pull\"\r\n"
                );
                respond(&mut stream, "401 Unauthorized", &challenge, b"");
                continue;
            }
            let digest = if path.contains("/manifests/") {
                manifest.hex().to_string()
            } else {
                path.rsplit(':').next().unwrap_or("").to_string()
            };
            match std::fs::read(blobs.join(&digest)) {
                Ok(body) => respond(
                    &mut stream,
                    "200 OK",
                    "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
                    &body,
                ),
                Err(_) => respond(&mut stream, "404 Not Found", "", b"{}"),
            }
        }
        log
    });
    (addr, handle)
}

/// Pulls `app:1` from a [`bearer_registry_double`] into `root`, with the
/// double's credentials in a docker config.json under `cfg`; stops the
/// double and returns the pull's output and the double's request log.
pub fn pull_from_double(
    root: &Path,
    cfg: &Path,
    double: (String, std::thread::JoinHandle<Vec<String>>),
    user: &str,
    pass: &str,
) -> (Output, Vec<String>) {
    use base64::Engine;
    let (addr, server) = double;
    std::fs::create_dir_all(cfg).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    std::fs::write(cfg.join("config.json"), format!(r#"{{"auths":{{"{addr}":{{"auth":"{auth}"}}}}}}"#)).unwrap();
    let out = Command::new(HULL)
        .env("DOCKER_CONFIG", cfg)
        .env("HULL_INSECURE_REGISTRIES", &addr)
        .arg("--root")
        .arg(root)
        .args(["pull", &format!("{addr}/app:1")])
        .output()
        .unwrap();
    std::net::TcpStream::connect(&addr).unwrap().write_all(b"STOP\r\n").unwrap();
    (out, server.join().unwrap())
}
