//! An image config turned into an OCI runtime spec: what the engine writes
//! as a bundle's config.json for `hull-runtime`.

use crate::manifest::ImageConfig;
use hull_spec::Spec;
use std::path::Path;

/// The image config could not be turned into a spec.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The user or group is not in the image.
    #[error("user {user:?}: {reason}")]
    User {
        /// As given.
        user: String,
        /// Why it does not resolve.
        reason: String,
    },
    /// Nothing to run.
    #[error("the image has neither Entrypoint nor Cmd, and no command was given")]
    NoCommand,
}

/// What the caller can change about the image's defaults (`hull run` flags).
#[derive(Debug, Clone, Default)]
pub struct SpecOptions {
    /// Replaces Cmd.
    pub cmd: Option<Vec<String>>,
    /// Replaces Entrypoint (an empty vector clears it).
    pub entrypoint: Option<Vec<String>>,
    /// Added to (and overriding) the image's Env.
    pub env: Vec<String>,
    /// Replaces WorkingDir.
    pub workdir: Option<String>,
    /// Replaces User.
    pub user: Option<String>,
    /// Hostname.
    pub hostname: Option<String>,
}

/// Builds the spec for a container of this image whose root filesystem is
/// at `rootfs` (read for /etc/passwd and /etc/group).
pub fn spec_for_image(config: &ImageConfig, rootfs: &Path, opts: &SpecOptions) -> Result<Spec, SpecError> {
    let exec = config.config.clone().unwrap_or_default();
    let entrypoint = opts.entrypoint.clone().or(exec.entrypoint).unwrap_or_default();
    let cmd = opts.cmd.clone().or(if opts.entrypoint.is_some() { None } else { exec.cmd }).unwrap_or_default();
    let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if args.is_empty() {
        return Err(SpecError::NoCommand);
    }
    let mut env = exec.env.unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    }
    for e in &opts.env {
        let key = e.split('=').next().unwrap_or(e);
        env.retain(|x| x.split('=').next() != Some(key));
        env.push(e.clone());
    }
    let user_spec = opts.user.clone().or(exec.user).filter(|u| !u.is_empty()).unwrap_or_else(|| "0".into());
    let (uid, gid, groups, home) = resolve_user(&user_spec, rootfs)?;
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={home}"));
    }
    let mut spec = Spec::example(None);
    if let Some(p) = spec.process.as_mut() {
        p.terminal = Some(false);
        p.args = Some(args);
        p.env = Some(env);
        p.cwd =
            opts.workdir.clone().or(exec.working_dir).filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into()).into();
        p.user.uid = uid;
        p.user.gid = gid;
        p.user.additional_gids = (!groups.is_empty()).then_some(groups);
    }
    if let Some(root) = spec.root.as_mut() {
        root.path = rootfs.to_path_buf();
        root.readonly = Some(false);
    }
    spec.hostname = opts.hostname.clone().or(Some("hull".into()));
    spec.annotations = exec.labels;
    Ok(spec)
}

/// The most of /etc/passwd or /etc/group read (real ones are kilobytes).
const MAX_DB: u64 = 8 << 20;

/// Reads the image's /etc/passwd or /etc/group as the container sees it:
/// resolved inside the rootfs (a symlink to /etc/shadow is the image's own
/// shadow, one to /dev/zero the image's own /dev), a regular file only (a
/// FIFO would hang, a device never end), at most [`MAX_DB`] bytes. Missing
/// is empty, as docker has it.
fn read_db(rootfs: &Path, file: &str, user: &str) -> Result<Vec<Vec<String>>, SpecError> {
    let err = |reason: String| SpecError::User { user: user.to_string(), reason };
    let root = hull_rootpath::Root::open(rootfs).map_err(|e| err(e.to_string()))?;
    let data = match root.read_regular(&Path::new("/etc").join(file), MAX_DB) {
        Ok(d) => d,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(hull_rootpath::RootPathError::Refused { reason, .. }) => {
            return Err(err(format!("the image's /etc/{file} {reason}")))
        }
        Err(e) => return Err(err(e.to_string())),
    };
    Ok(String::from_utf8_lossy(&data)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').map(String::from).collect())
        .collect())
}

/// Resolves `user[:group]` (names or numbers) against the image's
/// /etc/passwd and /etc/group: uid, gid, supplementary gids, home.
pub fn resolve_user(spec: &str, rootfs: &Path) -> Result<(u32, u32, Vec<u32>, String), SpecError> {
    let err = |reason: String| SpecError::User { user: spec.to_string(), reason };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = read_db(rootfs, "passwd", spec)?;
    let groups = read_db(rootfs, "group", spec)?;
    let entry = passwd.iter().find(|p| p.len() >= 6 && (p[0] == user || p[2] == user));
    let (uid, mut gid, name, home) = match (entry, user.parse::<u32>()) {
        (Some(p), _) => (
            p[2].parse().map_err(|_| err("bad uid in /etc/passwd".into()))?,
            p[3].parse().map_err(|_| err("bad gid in /etc/passwd".into()))?,
            p[0].clone(),
            p[5].clone(),
        ),
        (None, Ok(n)) => (n, n, String::new(), "/".into()),
        (None, Err(_)) => return Err(err(format!("no user {user:?} in the image's /etc/passwd"))),
    };
    if entry.is_none() && group.is_none() {
        gid = uid;
    }
    if let Some(g) = group {
        gid = match groups.iter().find(|e| e.len() >= 3 && e[0] == g) {
            Some(e) => e[2].parse().map_err(|_| err("bad gid in /etc/group".into()))?,
            None => g.parse().map_err(|_| err(format!("no group {g:?} in the image's /etc/group")))?,
        };
    }
    let supplementary: Vec<u32> = if name.is_empty() {
        Vec::new()
    } else {
        groups
            .iter()
            .filter(|e| e.len() >= 4 && e[3].split(',').any(|m| m == name))
            .filter_map(|e| e[2].parse().ok())
            .filter(|g| *g != gid)
            .collect()
    };
    Ok((uid, gid, supplementary, home))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ExecConfig;

    fn rootfs() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:web:/var/www:/bin/false\n",
        )
        .unwrap();
        std::fs::write(d.path().join("etc/group"), "root:x:0:\nweb:x:33:\nstaff:x:50:web\n").unwrap();
        d
    }

    #[test]
    fn entrypoint_cmd_env_user() {
        let r = rootfs();
        let config = ImageConfig {
            config: Some(ExecConfig {
                entrypoint: Some(vec!["/entry".into()]),
                cmd: Some(vec!["serve".into()]),
                env: Some(vec!["A=1".into()]),
                user: Some("web".into()),
                working_dir: Some("/srv".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s =
            spec_for_image(&config, r.path(), &SpecOptions { env: vec!["A=2".into()], ..Default::default() }).unwrap();
        let p = s.process.unwrap();
        assert_eq!(p.args.unwrap(), ["/entry", "serve"]);
        assert_eq!((p.user.uid, p.user.gid), (33, 33));
        assert_eq!(p.user.additional_gids, Some(vec![50]));
        assert_eq!(p.cwd, std::path::PathBuf::from("/srv"));
        let env = p.env.unwrap();
        assert!(env.contains(&"A=2".to_string()) && !env.contains(&"A=1".to_string()));
        assert!(env.contains(&"HOME=/var/www".to_string()));
        // --entrypoint replaces both; numeric users need no passwd entry.
        let opts = SpecOptions {
            entrypoint: Some(vec!["/bin/sh".into()]),
            user: Some("1000:staff".into()),
            ..Default::default()
        };
        let p = spec_for_image(&config, r.path(), &opts).unwrap().process.unwrap();
        assert_eq!(p.args.unwrap(), ["/bin/sh"]);
        assert_eq!((p.user.uid, p.user.gid), (1000, 50));
        assert!(resolve_user("nobody", r.path()).unwrap_err().to_string().contains("no user"));
        assert!(spec_for_image(&ImageConfig::default(), r.path(), &SpecOptions::default()).is_err());
    }
}
