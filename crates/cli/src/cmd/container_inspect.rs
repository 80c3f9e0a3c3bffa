//! `hull inspect` (containers, then images) and `hull container inspect`.

use hull_engine::Engine;

/// `hull inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Format output using a Go template (or json).
    #[arg(short = 'f', long)]
    format: Option<String>,
    /// Only this kind of object: container or image.
    #[arg(long = "type")]
    typ: Option<String>,
    /// Names or ids.
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn run(engine: &Engine, a: Args, only_containers: bool) -> anyhow::Result<i32> {
    let typ = if only_containers { Some("container") } else { a.typ.as_deref() };
    if !matches!(typ, None | Some("container") | Some("image")) {
        anyhow::bail!("invalid --type {:?}: want container or image", a.typ.unwrap_or_default());
    }
    let mut out = Vec::new();
    let mut code = 0;
    for n in &a.names {
        let found = match typ {
            Some("image") => None,
            _ => engine.get(n).ok().and_then(|c| serde_json::to_value(engine.inspect_container(&c)).ok()),
        };
        let found = match (found, typ) {
            (Some(v), _) => Some(v),
            (None, Some("container")) => None,
            (None, _) => super::inspect::values(engine, std::slice::from_ref(n)).ok().and_then(|mut v| v.pop()),
        };
        match found {
            Some(v) => out.push(v),
            None => {
                eprintln!("Error: No such object: {n}");
                code = 1;
            }
        }
    }
    match &a.format {
        Some(f) => super::format::print(f, &out, &|f| f.to_string())?,
        None => println!("{}", serde_json::to_string_pretty(&out)?),
    }
    Ok(code)
}
