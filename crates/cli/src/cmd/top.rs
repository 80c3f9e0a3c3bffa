//! `hull top`: the container's processes, as `ps` shows them.
//!
//! As docker does, ps runs over the whole host with the user's arguments
//! (any of them may select every process: `aux`, `-e`) and only the rows
//! whose PID belongs to the container are printed.

use anyhow::bail;
use hull_engine::Engine;

/// `hull top`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The container, then ps options (default -ef, as docker's).
    #[arg(value_name = "CONTAINER [ps OPTIONS]", required = true, num_args = 1.., trailing_var_arg = true)]
    container_and_ps_args: Vec<String>,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let (container, ps_args) = super::run::split_first(&a.container_and_ps_args)?;
    let pids = engine.top(container)?;
    let ps_args = if ps_args.is_empty() { vec!["-ef".to_string()] } else { ps_args.to_vec() };
    let out = std::process::Command::new("ps").args(&ps_args).output()?;
    if !out.status.success() {
        bail!("ps {}: {}", ps_args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    print!("{}", container_rows(&String::from_utf8_lossy(&out.stdout), &pids)?);
    Ok(0)
}

/// The header and the rows of `ps` output whose PID column is one of `pids`.
fn container_rows(ps: &str, pids: &[i32]) -> anyhow::Result<String> {
    let mut lines = ps.lines();
    let header = lines.next().unwrap_or_default();
    let Some(col) = header.split_whitespace().position(|c| c == "PID") else {
        bail!("couldn't find PID field in ps output");
    };
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::container_rows;

    #[test]
    fn keeps_only_the_containers_rows() {
        let ps = "USER PID %CPU COMMAND\nroot 1 0.0 init\nroot 42 0.0 sleep\nbob 43 0.0 42\n";
        assert_eq!(container_rows(ps, &[42]).unwrap(), "USER PID %CPU COMMAND\nroot 42 0.0 sleep\n");
        let ps = "  PID COMMAND\n    7 sh\n    8 ps\n";
        assert_eq!(container_rows(ps, &[7]).unwrap(), "  PID COMMAND\n    7 sh\n");
        assert!(container_rows("COMMAND\nsh\n", &[1]).unwrap_err().to_string().contains("PID field"));
    }
}
