//! `ps`: the host's ps output, filtered to the container's processes.

use anyhow::{bail, Context};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Options passed to ps(1) (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
    /// Output format.
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let pids = rt.pids(&a.id)?;
    if a.format == "json" {
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    let args = if a.ps_args.is_empty() { vec!["-ef".to_string()] } else { a.ps_args.clone() };
    let out = std::process::Command::new("ps").args(&args).output().context("run ps")?;
    if !out.status.success() {
        bail!("ps {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(col) = header.split_whitespace().position(|h| h == "PID") else {
        bail!("ps {}: output has no PID column", args.join(" "));
    };
    println!("{header}");
    for line in lines {
        let pid = line.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(0)
}
