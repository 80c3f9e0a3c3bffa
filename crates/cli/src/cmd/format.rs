//! `--format`: `json`, `table ...`, and the Go-template forms users paste
//! most (`{{.Field}}`, `{{.Field.Sub}}`, `{{json .}}`, `{{json .Field}}`),
//! over rows given as JSON objects. Anything else is a clear error.

use serde_json::Value;

enum Part {
    Text(String),
    Field(Vec<String>),
    Json(Vec<String>),
}

/// A parsed template.
pub struct Template {
    parts: Vec<Part>,
    table: bool,
}

fn path(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    if s == "." {
        return Some(vec![]);
    }
    let rest = s.strip_prefix('.')?;
    let fields: Vec<String> = rest.split('.').map(String::from).collect();
    fields.iter().all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(fields)
}

impl Template {
    /// Parses `spec`; `None` for plain `json`.
    pub fn parse(spec: &str) -> anyhow::Result<Option<Template>> {
        if spec == "json" {
            return Ok(None);
        }
        let (table, body) = match spec.strip_prefix("table") {
            Some(rest) => (true, rest.trim_start()),
            None => (false, spec),
        };
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let mut parts = Vec::new();
        let mut rest = body.as_str();
        while let Some(start) = rest.find("{{") {
            parts.push(Part::Text(rest[..start].to_string()));
            let end =
                rest[start..].find("}}").ok_or_else(|| anyhow::anyhow!("template {spec:?}: unclosed {{{{"))? + start;
            let action = rest[start + 2..end].trim().trim_start_matches('-').trim_end_matches('-').trim();
            let unsupported = || {
                anyhow::anyhow!(
                    "unsupported template syntax {{{{{action}}}}} in --format: Hull supports {{{{.Field}}}}, {{{{.Field.Sub}}}}, {{{{json .}}}}, {{{{json .Field}}}}, table and json"
                )
            };
            let part = match action.strip_prefix("json ") {
                Some(p) => Part::Json(path(p).ok_or_else(unsupported)?),
                None => Part::Field(path(action).filter(|p| !p.is_empty()).ok_or_else(unsupported)?),
            };
            parts.push(part);
            rest = &rest[end + 2..];
        }
        parts.push(Part::Text(rest.to_string()));
        Ok(Some(Template { parts, table }))
    }

    /// Renders one row; unknown fields are an error (as Go's templates).
    pub fn render(&self, row: &Value) -> anyhow::Result<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(&plain(lookup(row, f)?)),
                Part::Json(f) => out.push_str(&lookup(row, f)?.to_string()),
            }
        }
        Ok(out)
    }

    /// The header row of a table: each field's column title.
    pub fn header(&self, titles: &dyn Fn(&str) -> String) -> Option<String> {
        if !self.table {
            return None;
        }
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) | Part::Json(f) => out.push_str(&titles(&f.join("."))),
            }
        }
        Some(out)
    }
}

fn lookup<'a>(row: &'a Value, fields: &[String]) -> anyhow::Result<&'a Value> {
    let mut v = row;
    for f in fields {
        v = v.get(f).ok_or_else(|| anyhow::anyhow!("template: can't evaluate field {f}"))?;
    }
    Ok(v)
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        Value::Object(m) if m.is_empty() => "map[]".into(),
        other => other.to_string(),
    }
}

/// Prints rows: JSON lines, a template per row, or a table with aligned columns.
pub fn print(format: &str, rows: &[Value], titles: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
    let Some(t) = Template::parse(format)? else {
        for r in rows {
            println!("{r}");
        }
        return Ok(());
    };
    let mut lines = Vec::new();
    if let Some(h) = t.header(titles) {
        lines.push(h);
    }
    for r in rows {
        lines.push(t.render(r)?);
    }
    print_table(&lines);
    Ok(())
}

/// Prints tab-separated lines as columns padded three spaces apart (docker's tabwriter).
pub fn print_table(lines: &[String]) {
    let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &cells {
        for (i, c) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            let w = c.chars().count();
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    for row in &cells {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{c:<w$}   ", w = widths[i]));
            } else {
                line.push_str(c);
            }
        }
        println!("{}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let row = serde_json::json!({"ID": "abc", "Names": "web", "Labels": {"a": "b"}});
        let t = Template::parse("{{.ID}} {{ .Names }}").unwrap().unwrap();
        assert_eq!(t.render(&row).unwrap(), "abc web");
        let t = Template::parse("{{json .Labels}}").unwrap().unwrap();
        assert_eq!(t.render(&row).unwrap(), r#"{"a":"b"}"#);
        assert!(Template::parse("{{range .Labels}}x{{end}}").is_err());
        assert!(Template::parse("{{.ID").is_err());
        assert!(Template::parse("{{.Nope}}").unwrap().unwrap().render(&row).is_err());
        let t = Template::parse("table {{.ID}}\\t{{.Names}}").unwrap().unwrap();
        assert_eq!(t.header(&|f| f.to_uppercase()).unwrap(), "ID\tNAMES");
        assert!(Template::parse("json").unwrap().is_none());
    }
}
