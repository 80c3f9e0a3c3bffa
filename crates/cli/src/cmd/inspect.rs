//! `hull image inspect`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Format output: json or a Go template (`{{.Id}}`, `{{.Config.Env}}`, ...).
    #[arg(short = 'f', long)]
    format: Option<String>,
    /// Images (name, id or id prefix).
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(engine: &hull_engine::Engine, a: Args) -> anyhow::Result<()> {
    let out = values(engine, &a.images)?;
    match a.format.as_deref() {
        None | Some("json") => println!("{}", serde_json::to_string_pretty(&out)?),
        Some(f) => super::format::print(f, &out, &|f| f.to_string())?,
    }
    Ok(())
}

/// docker's image inspect objects for `names`.
pub fn values(engine: &hull_engine::Engine, names: &[String]) -> anyhow::Result<Vec<serde_json::Value>> {
    names.iter().map(|n| Ok(serde_json::to_value(engine.inspect_image(n)?)?)).collect()
}
