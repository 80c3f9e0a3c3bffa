//! docker's string forms, parsed once for every front end: the CLI's flags
//! and the Docker API's fields that carry the same strings (`Binds`,
//! `Tmpfs`, `Devices`' `PathOnHost:PathInContainer:Perms`, `ExposedPorts`
//! keys, `--mount`'s CSV). Errors are [`EngineError::Invalid`] in docker's
//! words, naming the value. Sizes, durations and ulimits are in
//! [`crate::units`]; port specs in `hull_network::ports`.

use crate::error::{EngineError, Result};
use crate::model::{DeviceRate, DeviceSpec, MountKind, MountSpec};
use crate::units;
use std::collections::BTreeMap;

fn invalid(msg: String) -> EngineError {
    EngineError::Invalid(msg)
}

/// A bind or volume in docker's `-v`/`Binds` form: `/PATH` (an anonymous
/// volume), `NAME:/PATH[:MODES]` or `/HOST:/PATH[:MODES]`. A bind's source
/// must be absolute: the CLI makes `./dir` absolute before it gets here, as
/// docker's does. MODES: ro/rw, z/Z (SELinux relabelling, nothing to do
/// without SELinux: see [`relabels`]), nocopy (volumes), one propagation.
pub fn bind(spec: &str) -> Result<MountSpec> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, modes) = match parts.as_slice() {
        [d] if d.starts_with('/') => {
            return Ok(MountSpec {
                kind: MountKind::Volume,
                source: String::new(),
                target: d.to_string(),
                readonly: false,
                options: vec![],
                anonymous: true,
            })
        }
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => {
            return Err(invalid(format!("invalid volume specification {spec:?}: want /PATH or SOURCE:TARGET[:MODES]")))
        }
    };
    if src.is_empty() || dst.is_empty() {
        return Err(invalid(format!("invalid volume specification {spec:?}: empty source or target")));
    }
    let kind = if src.starts_with('/') {
        MountKind::Bind
    } else if src.starts_with('.') {
        return Err(invalid(format!("invalid volume specification {spec:?}: a bind source must be an absolute path")));
    } else {
        MountKind::Volume
    };
    let (readonly, options) = volume_modes(spec, modes, kind)?;
    Ok(MountSpec { kind, source: src.into(), target: dst.into(), readonly, options, anonymous: false })
}

/// Whether `-v` MODES ask for SELinux relabelling (`z`, `Z`), for a front
/// end to say it does nothing on a host without SELinux.
pub fn relabels(spec: &str) -> bool {
    spec.split(':').nth(2).is_some_and(|m| m.split(',').any(|m| m == "z" || m == "Z"))
}

const PROPAGATION: [&str; 6] = ["shared", "rshared", "slave", "rslave", "private", "rprivate"];

fn volume_modes(spec: &str, modes: &str, kind: MountKind) -> Result<(bool, Vec<String>)> {
    let mut readonly = false;
    let mut options = Vec::new();
    let bad = |why: String| invalid(format!("invalid volume specification {spec:?}: {why}"));
    for m in modes.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => readonly = true,
            "rw" => readonly = false,
            "z" | "Z" => {}
            "nocopy" if kind == MountKind::Volume => options.push(m.to_string()),
            "nocopy" => return Err(bad("nocopy applies to named volumes, not bind mounts".into())),
            p if PROPAGATION.contains(&p) => {
                if options.iter().any(|o: &String| o != "nocopy") {
                    return Err(bad("more than one propagation mode".into()));
                }
                options.push(m.to_string());
            }
            other => return Err(bad(format!("unknown mode {other:?}"))),
        }
    }
    Ok((readonly, options))
}

/// docker's `--mount` CSV: `type=bind|volume|tmpfs,source=,target=,
/// readonly,tmpfs-size=,tmpfs-mode=,bind-propagation=,volume-nocopy`.
pub fn mount(csv: &str) -> Result<MountSpec> {
    let mut spec = MountSpec {
        kind: MountKind::Volume,
        source: String::new(),
        target: String::new(),
        readonly: false,
        options: vec![],
        anonymous: false,
    };
    let bad = |why: String| invalid(format!("invalid argument {csv:?} for --mount: {why}"));
    for field in csv.split(',') {
        let (k, v) = field.split_once('=').unwrap_or((field, "true"));
        let yes = || match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(bad(format!("invalid value {v:?} for {k}"))),
        };
        match k.to_ascii_lowercase().as_str() {
            "type" => spec.kind = v.parse().map_err(|_| bad(format!("unknown mount type {v:?}")))?,
            "source" | "src" => spec.source = v.into(),
            "target" | "destination" | "dst" => spec.target = v.into(),
            "readonly" | "ro" => spec.readonly = yes()?,
            "tmpfs-size" => spec.options.push(format!("size={}", units::parse_bytes("tmpfs-size", v)?)),
            "tmpfs-mode" => {
                u32::from_str_radix(v, 8).map_err(|_| bad(format!("invalid tmpfs-mode {v:?}")))?;
                spec.options.push(format!("mode={v}"))
            }
            "bind-propagation" if PROPAGATION.contains(&v) => spec.options.push(v.into()),
            "bind-propagation" => return Err(bad(format!("invalid propagation {v:?}"))),
            "volume-nocopy" if yes()? => spec.options.push("nocopy".into()),
            "volume-nocopy" => {}
            _ => return Err(bad(format!("unknown field {k:?}"))),
        }
    }
    if spec.target.is_empty() {
        return Err(bad("target is required".into()));
    }
    match spec.kind {
        MountKind::Bind if !spec.source.starts_with('/') => {
            return Err(bad("a bind source must be an absolute path".into()))
        }
        MountKind::Tmpfs if !spec.source.is_empty() => return Err(bad("a tmpfs takes no source".into())),
        MountKind::Volume if spec.source.is_empty() => spec.anonymous = true,
        _ => {}
    }
    Ok(spec)
}

/// A tmpfs in docker's `--tmpfs PATH[:OPTIONS]` form (the API's `Tmpfs`
/// map is the same, split at the colon).
pub fn tmpfs(path: &str, options: &str) -> Result<MountSpec> {
    if !path.starts_with('/') {
        return Err(invalid(format!("invalid tmpfs {path:?}: the mount point must be an absolute path")));
    }
    Ok(MountSpec {
        kind: MountKind::Tmpfs,
        source: String::new(),
        target: path.into(),
        readonly: false,
        options: options.split(',').filter(|o| !o.is_empty()).map(String::from).collect(),
        anonymous: false,
    })
}

/// `--device HOST[:CONTAINER[:PERMISSIONS]]`.
pub fn device(spec: &str) -> Result<DeviceSpec> {
    let parts: Vec<&str> = spec.split(':').collect();
    let perms_ok = |p: &str| !p.is_empty() && p.chars().all(|x| "rwm".contains(x));
    let (host, ctr, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, c] if perms_ok(c) => (*h, *h, *c),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] if perms_ok(p) => (*h, *c, *p),
        _ => {
            return Err(invalid(format!("invalid device specification {spec:?}: want HOST[:CONTAINER[:PERMISSIONS]]")))
        }
    };
    if !host.starts_with('/') || !ctr.starts_with('/') {
        return Err(invalid(format!("invalid device specification {spec:?}: paths must be absolute")));
    }
    Ok(DeviceSpec { host: host.into(), container: ctr.into(), permissions: perms.into() })
}

/// `--expose PORT[/PROTO]` or a range `START-END[/PROTO]`, as `80/tcp` keys
/// (docker's `ExposedPorts`).
pub fn expose(spec: &str) -> Result<Vec<String>> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let bad = || invalid(format!("invalid port {spec:?}: want PORT[/PROTO] or START-END[/PROTO]"));
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    let (lo, hi) = ports.split_once('-').unwrap_or((ports, ports));
    let (lo, hi): (u16, u16) = (lo.parse().map_err(|_| bad())?, hi.parse().map_err(|_| bad())?);
    if lo == 0 || hi < lo {
        return Err(bad());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// `DEVICE:RATE` (`--device-read-bps`, RATE with docker's size suffixes).
pub fn device_rate(flag: &str, spec: &str) -> Result<DeviceRate> {
    let (path, rate) = spec
        .rsplit_once(':')
        .filter(|(p, _)| p.starts_with('/'))
        .ok_or_else(|| invalid(format!("invalid {flag} {spec:?}: want DEVICE:RATE")))?;
    let rate = units::parse_bytes(flag, rate)?;
    Ok(DeviceRate { path: path.to_string(), rate: rate as u64 })
}

/// `KEY=value`, with the flag named in the error.
pub fn key_value(flag: &str, s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(invalid(format!("invalid {flag} {s:?}: want KEY=value"))),
    }
}

/// Labels as docker takes them: `KEY=value`, or a bare KEY (empty value).
pub fn labels(given: &[String]) -> BTreeMap<String, String> {
    given.iter().map(|l| l.split_once('=').map_or((l.clone(), String::new()), |(k, v)| (k.into(), v.into()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_as_docker_reads_them() {
        let b = bind("/srv:/data:ro,rshared").unwrap();
        assert_eq!(
            (b.kind, b.source.as_str(), b.target.as_str(), b.readonly),
            (MountKind::Bind, "/srv", "/data", true)
        );
        assert_eq!(b.options, ["rshared"]);
        let v = bind("cache:/cache:nocopy").unwrap();
        assert_eq!((v.kind, v.options.clone()), (MountKind::Volume, vec!["nocopy".to_string()]));
        let a = bind("/anon").unwrap();
        assert!(a.anonymous && a.kind == MountKind::Volume);
        assert!(relabels("/a:/b:z") && !relabels("/a:/b:ro"));
        for bad in ["a:b:c:d", "/srv:/data:rw,bogus", "/srv:/d:nocopy", "/s:/d:shared,slave", "./rel:/d", ":/d"] {
            let e = bind(bad).unwrap_err().to_string();
            assert!(e.contains("invalid volume specification"), "{bad}: {e}");
        }
    }

    #[test]
    fn mounts_in_csv() {
        let m = mount("type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1777").unwrap();
        assert_eq!(m.kind, MountKind::Tmpfs);
        assert_eq!(m.options, ["size=67108864", "mode=1777"]);
        let m = mount("type=bind,src=/srv,dst=/srv,readonly,bind-propagation=rslave").unwrap();
        assert!(m.readonly);
        assert_eq!(m.options, ["rslave"]);
        assert!(mount("type=volume,target=/x").unwrap().anonymous);
        assert!(!mount("type=bind,src=/s,dst=/d,readonly=false").unwrap().readonly);
        for (bad, why) in [
            ("type=nfs,target=/x", "unknown mount type"),
            ("type=bind,src=rel,dst=/x", "absolute"),
            ("type=volume,colour=red,target=/x", "unknown field"),
            ("type=volume", "target is required"),
            ("type=tmpfs,target=/x,tmpfs-mode=9z", "tmpfs-mode"),
        ] {
            let e = mount(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn devices_ports_and_rates() {
        let d = device("/dev/fuse").unwrap();
        assert_eq!((d.container.as_str(), d.permissions.as_str()), ("/dev/fuse", "rwm"));
        let d = device("/dev/sda:r").unwrap();
        assert_eq!((d.container.as_str(), d.permissions.as_str()), ("/dev/sda", "r"));
        let d = device("/dev/sda:/dev/xvda:rw").unwrap();
        assert_eq!((d.container.as_str(), d.permissions.as_str()), ("/dev/xvda", "rw"));
        assert!(device("/dev/a:/dev/b:rwx").is_err());
        assert!(device("sda").is_err());
        assert_eq!(expose("8000-8002/udp").unwrap(), ["8000/udp", "8001/udp", "8002/udp"]);
        assert_eq!(expose("80").unwrap(), ["80/tcp"]);
        for bad in ["0", "90-80", "80/icmp", "http"] {
            assert!(expose(bad).is_err(), "{bad}");
        }
        assert_eq!(device_rate("--device-read-bps", "/dev/sda:1mb").unwrap().rate, 1 << 20);
        assert!(device_rate("--device-read-bps", "sda:1mb").is_err());
        assert!(tmpfs("run", "").is_err());
        assert_eq!(tmpfs("/run", "size=1m,noexec").unwrap().options, ["size=1m", "noexec"]);
    }
}
