//! hull-cni: Hull's CNI client from the command line, as cnitool:
//! `hull-cni [--plugin-dir D]... [--cache-dir D] add|check|del CONFLIST CONTAINER_ID NETNS [IFNAME]`
//! and `hull-cni version PLUGIN`. Prints the ADD result as JSON.

use hull_network::cni::{Cni, NetworkConfigList, RuntimeConf};

const USAGE: &str = "usage: hull-cni [--plugin-dir DIR]... [--cache-dir DIR] add|check|del CONFLIST CONTAINER_ID NETNS [IFNAME]\n       hull-cni [--plugin-dir DIR]... version PLUGIN";

fn main() {
    if let Err(e) = run() {
        eprintln!("hull-cni: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cni = Cni::new("/var/lib/hull/cni");
    let mut dirs = Vec::new();
    while args.first().is_some_and(|a| a.starts_with("--")) {
        let flag = args.remove(0);
        if flag == "--help" {
            println!("{USAGE}");
            return Ok(());
        }
        let value =
            if args.is_empty() { return Err(format!("{flag} needs a value\n{USAGE}").into()) } else { args.remove(0) };
        match flag.as_str() {
            "--plugin-dir" => dirs.push(value.into()),
            "--cache-dir" => cni.cache_dir = value.into(),
            other => return Err(format!("unknown flag {other}\n{USAGE}").into()),
        }
    }
    if !dirs.is_empty() {
        cni.plugin_dirs = dirs;
    }
    match args.as_slice() {
        [cmd, plugin] if cmd == "version" => {
            println!("{}", cni.version(plugin)?.join(" "));
            Ok(())
        }
        [cmd, conflist, id, netns, rest @ ..] if rest.len() <= 1 => {
            let data = std::fs::read(conflist).map_err(|e| format!("read {conflist}: {e}"))?;
            let list = NetworkConfigList::parse(&data)?;
            let rt = RuntimeConf {
                container_id: id.clone(),
                netns: netns.into(),
                ifname: rest.first().cloned().unwrap_or_else(|| "eth0".into()),
                ..Default::default()
            };
            match cmd.as_str() {
                "add" => println!("{}", serde_json::to_string_pretty(&cni.add(&list, &rt)?)?),
                "check" => cni.check(&list, &rt)?,
                "del" => cni.del(&list, &rt)?,
                other => return Err(format!("unknown command {other}\n{USAGE}").into()),
            }
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}
