//! The CNI client against Debian's real plugins, as root, entirely inside
//! network namespaces this test creates: a "host" namespace where the
//! plugins run (bridge, NAT rules, IPAM) and a container namespace. No
//! traffic leaves them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CNI: &str = env!("CARGO_BIN_EXE_hull-cni");

/// Two network namespaces and a scratch dir, removed on drop.
struct Netns {
    host: String,
    ctr: String,
    dir: tempfile::TempDir,
}

impl Netns {
    fn new(tag: &str) -> Netns {
        let pid = std::process::id();
        let n = Netns {
            host: format!("hull-cni-h{tag}{pid}"),
            ctr: format!("hull-cni-c{tag}{pid}"),
            dir: tempfile::tempdir().unwrap(),
        };
        for ns in [&n.host, &n.ctr] {
            assert!(Command::new("ip").args(["netns", "add", ns]).status().unwrap().success());
        }
        assert!(Command::new("ip")
            .args(["netns", "exec", &n.host, "ip", "link", "set", "lo", "up"])
            .status()
            .unwrap()
            .success());
        n
    }

    /// Runs a command in the host namespace.
    fn in_host(&self, args: &[&str]) -> Output {
        Command::new("ip").args(["netns", "exec", &self.host]).args(args).output().unwrap()
    }

    /// Runs a command in the container namespace.
    fn in_ctr(&self, args: &[&str]) -> Output {
        Command::new("ip").args(["netns", "exec", &self.ctr]).args(args).output().unwrap()
    }

    fn ctr_path(&self) -> String {
        format!("/run/netns/{}", self.ctr)
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// hull-cni in the host namespace.
    fn cni(&self, args: &[&str]) -> Output {
        let cache = self.cache().display().to_string();
        let mut all = vec![CNI, "--cache-dir", &cache];
        all.extend_from_slice(args);
        self.in_host(&all)
    }

    fn conflist(&self, name: &str, subnet: &str) -> PathBuf {
        let ipam_dir = self.dir.path().join("ipam");
        let list = serde_json::json!({
            "cniVersion": "1.0.0",
            "name": name,
            "plugins": [
                {"type": "bridge", "bridge": "hull0", "isGateway": true, "ipMasq": true,
                 "ipam": {"type": "host-local", "ranges": [[{"subnet": subnet}]], "routes": [{"dst": "0.0.0.0/0"}],
                          "dataDir": ipam_dir}},
                {"type": "firewall"},
                {"type": "tuning", "sysctl": {"net.ipv4.conf.IFNAME.accept_local": "1"}}
            ]
        });
        let p = self.dir.path().join(format!("{name}.conflist"));
        std::fs::write(&p, list.to_string().replace("IFNAME", "eth0")).unwrap();
        p
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for ns in [&self.ctr, &self.host] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn files_in(p: &Path) -> Vec<String> {
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn add_check_del_with_real_plugins() {
    let n = Netns::new("a");
    let conf = n.conflist("hullnet", "10.88.0.0/16");
    let conf = conf.to_str().unwrap();
    let out = n.cni(&["add", conf, "ctr1", &n.ctr_path(), "eth0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addr = result["ips"][0]["address"].as_str().unwrap().to_string();
    assert!(addr.starts_with("10.88.0."), "{result}");
    // The container sees its address and reaches the gateway on the bridge.
    let ip = text(&n.in_ctr(&["ip", "-4", "addr", "show", "eth0"]).stdout);
    assert!(ip.contains(&addr), "{ip}");
    let ping = n.in_ctr(&["ping", "-c", "1", "-W", "2", "10.88.0.1"]);
    assert!(ping.status.success(), "{}", text(&ping.stdout));
    // tuning's sysctl landed; the NAT rule exists in the host namespace.
    assert_eq!(text(&n.in_ctr(&["cat", "/proc/sys/net/ipv4/conf/eth0/accept_local"]).stdout).trim(), "1");
    let rules = text(&n.in_host(&["iptables-save", "-t", "nat"]).stdout);
    assert!(rules.contains("CNI-"), "{rules}");
    // CHECK passes with the cached result.
    let out = n.cni(&["check", conf, "ctr1", &n.ctr_path(), "eth0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(files_in(&n.cache().join("results")), ["hullnet-ctr1-eth0"]);
    // DEL removes the interface, the lease, the rules and the cache entry.
    let out = n.cni(&["del", conf, "ctr1", &n.ctr_path(), "eth0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!n.in_ctr(&["ip", "link", "show", "eth0"]).status.success());
    let leases: Vec<String> =
        files_in(&n.dir.path().join("ipam/hullnet")).into_iter().filter(|f| f.starts_with("10.")).collect();
    assert!(leases.is_empty(), "{leases:?}");
    let rules = text(&n.in_host(&["iptables-save", "-t", "nat"]).stdout);
    assert!(!rules.contains("-j CNI-"), "{rules}");
    assert!(files_in(&n.cache().join("results")).is_empty());
    // VERSION.
    let out = Command::new(CNI).args(["version", "bridge"]).output().unwrap();
    assert!(text(&out.stdout).contains("1.0.0"), "{}", text(&out.stdout));
}

#[test]
fn plugin_errors_are_verbatim_and_nothing_is_left() {
    let n = Netns::new("b");
    // A bad subnet: host-local (under bridge) refuses; bridge passes its words on.
    let conf = n.conflist("badnet", "10.88.0.0/99");
    let out = n.cni(&["add", conf.to_str().unwrap(), "ctr2", &n.ctr_path(), "eth0"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("CNI plugin bridge failed (ADD)") && err.contains("10.88.0.0/99"), "{err}");
    assert!(!n.in_ctr(&["ip", "link", "show", "eth0"]).status.success());
    assert!(files_in(&n.cache().join("results")).is_empty());
    // A plugin that does not exist is named, with where it was looked for.
    let list = serde_json::json!({"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "nosuch"}]});
    let p = n.dir.path().join("x.conflist");
    std::fs::write(&p, list.to_string()).unwrap();
    let out = n.cni(&["add", p.to_str().unwrap(), "ctr3", &n.ctr_path()]);
    assert!(
        text(&out.stderr).contains("CNI plugin \"nosuch\" not found in /usr/lib/cni:/opt/cni/bin"),
        "{}",
        text(&out.stderr)
    );
    // A list without plugins.
    std::fs::write(&p, r#"{"cniVersion":"1.0.0","name":"x","plugins":[]}"#).unwrap();
    let out = n.cni(&["add", p.to_str().unwrap(), "ctr3", &n.ctr_path()]);
    assert!(text(&out.stderr).contains("network x: no plugins"), "{}", text(&out.stderr));
    assert!(files_in(&n.cache().join("results")).is_empty());
}
