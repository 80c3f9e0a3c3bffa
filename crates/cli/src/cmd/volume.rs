//! `hull volume`: named volumes.

use hull_engine::Engine;

/// `hull volume create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Set metadata for a volume (KEY=value).
    #[arg(short = 'l', long = "label")]
    label: Vec<String>,
    /// Volume name.
    name: String,
}

/// `hull volume ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only display volume names.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Format output: json or a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Filter output (dangling=true|false, driver=, label=KEY[=VALUE], name=).
    #[arg(short = 'f', long)]
    filter: Vec<String>,
}

const VOLUME_FILTERS: &[&str] = &["dangling", "driver", "label", "name"];

/// `hull volume inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Format output: json or a Go template (`{{.Mountpoint}}`).
    #[arg(short = 'f', long)]
    format: Option<String>,
    /// Volumes.
    #[arg(required = true)]
    names: Vec<String>,
}

/// `hull volume rm`.
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    /// Force the removal of volumes in use.
    #[arg(short = 'f', long)]
    force: bool,
    /// Volumes.
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn create(engine: &Engine, a: CreateArgs) -> anyhow::Result<i32> {
    let (v, _) = engine.volume_create(&a.name, hull_engine::parse::labels(&a.label))?;
    println!("{}", v.name);
    Ok(0)
}

pub fn ls(engine: &Engine, a: LsArgs) -> anyhow::Result<i32> {
    let filters: Vec<(String, String)> =
        a.filter.iter().map(|f| super::parse_filter(f, VOLUME_FILTERS)).collect::<anyhow::Result<_>>()?;
    let mut vols = Vec::new();
    'each: for v in engine.volume_list()? {
        for (k, want) in &filters {
            let ok = match k.as_str() {
                "dangling" => super::parse_bool_filter(k, want)? == engine.volume_users(&v.name)?.is_empty(),
                "driver" => v.driver == *want,
                "label" => super::label_matches(&v.labels, want),
                "name" => v.name.contains(want.as_str()),
                _ => false,
            };
            if !ok {
                continue 'each;
            }
        }
        vols.push(v);
    }
    if a.quiet {
        vols.iter().for_each(|v| println!("{}", v.name));
        return Ok(0);
    }
    let rows: Vec<serde_json::Value> = vols.iter().map(|v| serde_json::json!({"Driver": v.driver, "Name": v.name, "Mountpoint": v.mountpoint, "Labels": v.labels, "Scope": v.scope})).collect();
    let format = a.format.unwrap_or_else(|| "table {{.Driver}}\t{{.Name}}".into());
    super::format::print(&format, &rows, &|f| if f == "Name" { "VOLUME NAME".into() } else { f.to_uppercase() })?;
    Ok(0)
}

pub fn inspect(engine: &Engine, a: InspectArgs) -> anyhow::Result<i32> {
    let vols = a.names.iter().map(|n| engine.volume_inspect(n)).collect::<Result<Vec<_>, _>>()?;
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&vols)?),
        Some(f) => {
            let rows: Vec<serde_json::Value> = vols.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
            super::format::print(f, &rows, &|f| f.to_uppercase())?;
        }
    }
    Ok(0)
}

pub fn rm(engine: &Engine, a: NamesArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for n in &a.names {
        match engine.volume_remove(n, a.force) {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("Error response from daemon: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn prune(engine: &Engine, a: super::lifecycle::PruneArgs) -> anyhow::Result<i32> {
    if !a.force && !super::confirm("This will remove all local volumes not used by at least one container.") {
        return Ok(0);
    }
    let gone = engine.volume_prune()?;
    if !gone.is_empty() {
        println!("Deleted Volumes:");
        gone.iter().for_each(|n| println!("{n}"));
        println!();
    }
    println!("Total reclaimed volumes: {}", gone.len());
    Ok(0)
}
