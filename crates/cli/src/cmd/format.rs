//! `--format`: `json`, `table ...` (a header row of column titles, then
//! aligned columns), and Go templates (see [`super::template`]) over rows
//! given as JSON objects.

use serde_json::Value;

/// A parsed `--format`.
pub struct Template {
    inner: super::template::Template,
    table: bool,
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
        // docker's CLI takes \t and \n typed literally as tab and newline.
        let body = body.replace("\\t", "\t").replace("\\n", "\n");
        let inner = super::template::Template::parse(&body).map_err(|e| anyhow::anyhow!("--format {spec:?}: {e}"))?;
        Ok(Some(Template { inner, table }))
    }

    /// Renders one row; unknown fields are an error (as Go's templates).
    pub fn render(&self, row: &Value) -> anyhow::Result<String> {
        self.inner.render(row)
    }

    /// The header row of a table: each field's column title.
    pub fn header(&self, titles: &dyn Fn(&str) -> String) -> Option<String> {
        self.table.then(|| self.inner.header(titles))
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
        assert_eq!(
            Template::parse("{{range $k, $v := .Labels}}{{$k}}{{end}}").unwrap().unwrap().render(&row).unwrap(),
            "a"
        );
        assert!(Template::parse("{{.ID").is_err());
        assert!(Template::parse("{{.Nope}}").unwrap().unwrap().render(&row).is_err());
        let t = Template::parse("table {{.ID}}\\t{{.Names}}").unwrap().unwrap();
        assert_eq!(t.header(&|f| f.to_uppercase()).unwrap(), "ID\tNAMES");
        assert!(Template::parse("json").unwrap().is_none());
    }
}
