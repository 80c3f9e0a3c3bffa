//! Go's text/template over JSON values, as far as docker's `--format`
//! documentation uses it: fields (`.A.B`, `$v.A`), pipelines (`x | f`),
//! `if`/`else if`/`else`, `range` (with `$i, $v :=`), `with`, variables,
//! comments, trim markers, parenthesized pipelines, and the functions
//! docker adds (`json`, `join`, `split`, `lower`, `upper`, `title`, `pad`,
//! `truncate`) beside Go's (`index`, `len`, `print`, `printf`, `println`,
//! `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`, `slice`).

use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range { vars: Vec<String>, over: Pipeline, body: Vec<Node>, otherwise: Vec<Node> },
    With(Pipeline, Vec<Node>, Vec<Node>),
}

/// `$x := cmd | cmd`.
#[derive(Debug, Clone)]
struct Pipeline {
    assign: Option<String>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.`, `.A.B`, `$`, `$v.A`.
    Path {
        var: Option<String>,
        fields: Vec<String>,
    },
    Literal(Value),
    Func(String),
    /// `(pipeline).A.B`.
    Sub(Box<Pipeline>, Vec<String>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

/// One `{{...}}` action, or text, in order.
enum Piece {
    Text(String),
    Action(String),
}

fn lex(src: &str) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_string();
        let after = &rest[start + 2..];
        let trim_left = after.starts_with('-') && after[1..].starts_with(|c: char| c.is_whitespace());
        let end = find_close(after).ok_or_else(|| anyhow!("template: unclosed action"))?;
        let mut inner = &after[..end];
        let trim_right = inner.ends_with('-') && inner[..inner.len() - 1].ends_with(|c: char| c.is_whitespace());
        if trim_left {
            inner = &inner[1..];
            text = text.trim_end().to_string();
        }
        if trim_right {
            inner = &inner[..inner.len() - 1];
        }
        out.push(Piece::Text(text));
        out.push(Piece::Action(inner.trim().to_string()));
        rest = &after[end + 2..];
        if trim_right {
            rest = rest.trim_start();
        }
    }
    out.push(Piece::Text(rest.to_string()));
    Ok(out)
}

/// The `}}` closing an action, not one inside a string.
fn find_close(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut quote = None;
    while i < b.len() {
        match (quote, b[i]) {
            (None, b'"') | (None, b'`') => quote = Some(b[i]),
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Pipe,
    Comma,
    Assign,
}

fn tokens(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Assign);
                i += 2;
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                        s.push(match chars[i] {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            other => other,
                        });
                    } else {
                        s.push(chars[i]);
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    bail!("template: unterminated string");
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '`')
                    .ok_or_else(|| anyhow!("template: unterminated raw string"))?;
                out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()|,\"`".contains(chars[i]) {
                    if chars[i] == ':' && chars.get(i + 1) == Some(&'=') {
                        break;
                    }
                    i += 1;
                }
                // `).Field` after a parenthesis is part of it.
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

fn fields_of(s: &str) -> Result<Vec<String>> {
    if s.is_empty() {
        return Ok(vec![]);
    }
    let rest = s.strip_prefix('.').ok_or_else(|| anyhow!("template: bad field {s:?}"))?;
    let fields: Vec<String> = rest.split('.').map(String::from).collect();
    if fields.iter().any(|f| f.is_empty() || !f.chars().all(|c| c.is_alphanumeric() || c == '_')) {
        bail!("template: bad field {s:?}");
    }
    Ok(fields)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn pipeline(&mut self) -> Result<Pipeline> {
        let mut assign = None;
        if let (Some(Tok::Word(w)), Some(Tok::Assign)) = (self.toks.get(self.at), self.toks.get(self.at + 1)) {
            if w.starts_with('$') {
                assign = Some(w.clone());
                self.at += 2;
            }
        }
        let mut cmds = vec![self.command()?];
        while self.toks.get(self.at) == Some(&Tok::Pipe) {
            self.at += 1;
            cmds.push(self.command()?);
        }
        Ok(Pipeline { assign, cmds })
    }

    fn command(&mut self) -> Result<Vec<Arg>> {
        let mut args = Vec::new();
        while let Some(t) = self.toks.get(self.at).cloned() {
            match t {
                Tok::Pipe | Tok::Close => break,
                Tok::Open => {
                    self.at += 1;
                    let inner = self.pipeline()?;
                    if self.toks.get(self.at) != Some(&Tok::Close) {
                        bail!("template: unclosed parenthesis");
                    }
                    self.at += 1;
                    // `(x).Field`: the word right after the parenthesis.
                    let mut fields = Vec::new();
                    if let Some(Tok::Word(w)) = self.toks.get(self.at) {
                        if w.starts_with('.') && w.len() > 1 {
                            fields = fields_of(w)?;
                            self.at += 1;
                        }
                    }
                    args.push(Arg::Sub(Box::new(inner), fields));
                }
                Tok::Str(s) => {
                    self.at += 1;
                    args.push(Arg::Literal(Value::String(s)));
                }
                Tok::Word(w) => {
                    self.at += 1;
                    args.push(word(&w)?);
                }
                Tok::Comma | Tok::Assign => bail!("template: unexpected {t:?}"),
            }
        }
        if args.is_empty() {
            bail!("template: empty command");
        }
        Ok(args)
    }
}

fn word(w: &str) -> Result<Arg> {
    if w == "." || w.starts_with('.') {
        return Ok(Arg::Path { var: None, fields: fields_of(if w == "." { "" } else { w })? });
    }
    if let Some(rest) = w.strip_prefix('$') {
        let (name, path) = match rest.find('.') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        return Ok(Arg::Path { var: Some(format!("${name}")), fields: fields_of(path)? });
    }
    Ok(match w {
        "true" => Arg::Literal(Value::Bool(true)),
        "false" => Arg::Literal(Value::Bool(false)),
        "nil" => Arg::Literal(Value::Null),
        _ if w.parse::<i64>().is_ok() => Arg::Literal(Value::from(w.parse::<i64>()?)),
        _ if w.parse::<f64>().is_ok() => Arg::Literal(serde_json::json!(w.parse::<f64>()?)),
        _ if w.chars().all(|c| c.is_alphanumeric() || c == '_') => Arg::Func(w.to_string()),
        _ => bail!("template: unexpected {w:?}"),
    })
}

fn parse_pipeline(src: &str) -> Result<Pipeline> {
    let mut p = Parser { toks: tokens(src)?, at: 0 };
    let out = p.pipeline()?;
    if p.at != p.toks.len() {
        bail!("template: unexpected {:?} in {src:?}", p.toks[p.at]);
    }
    Ok(out)
}

/// `range $i, $v := x` → (["$i", "$v"], x).
fn range_head(src: &str) -> Result<(Vec<String>, Pipeline)> {
    let toks = tokens(src)?;
    if let Some(pos) = toks.iter().position(|t| *t == Tok::Assign) {
        let vars: Vec<String> = toks[..pos]
            .iter()
            .filter_map(|t| match t {
                Tok::Word(w) if w.starts_with('$') => Some(w.clone()),
                _ => None,
            })
            .collect();
        let mut p = Parser { toks: toks[pos + 1..].to_vec(), at: 0 };
        let over = p.pipeline()?;
        return Ok((vars, over));
    }
    Ok((vec![], parse_pipeline(src)?))
}

/// Builds the node tree; returns the nodes and the closing keyword met.
fn build(pieces: &mut std::iter::Peekable<std::vec::IntoIter<Piece>>) -> Result<(Vec<Node>, Option<String>)> {
    let mut nodes = Vec::new();
    while let Some(p) = pieces.next() {
        let action = match p {
            Piece::Text(t) => {
                if !t.is_empty() {
                    nodes.push(Node::Text(t));
                }
                continue;
            }
            Piece::Action(a) => a,
        };
        if action.starts_with("/*") {
            continue;
        }
        let (kw, rest) = action.split_once(char::is_whitespace).map_or((action.as_str(), ""), |(k, r)| (k, r.trim()));
        match kw {
            "end" | "else" => return Ok((nodes, Some(action.clone()))),
            "if" => {
                let mut branches = vec![];
                let mut cond = parse_pipeline(rest)?;
                let otherwise = loop {
                    let (body, close) = build(pieces)?;
                    branches.push((cond, body));
                    match close.as_deref() {
                        Some("end") => break vec![],
                        Some("else") => {
                            let (other, close) = build(pieces)?;
                            if close.as_deref() != Some("end") {
                                bail!("template: if without end");
                            }
                            break other;
                        }
                        Some(e) if e.starts_with("else if ") => cond = parse_pipeline(&e["else if ".len()..])?,
                        _ => bail!("template: if without end"),
                    }
                };
                nodes.push(Node::If(branches, otherwise));
            }
            "range" | "with" => {
                let (vars, over) = if kw == "range" { range_head(rest)? } else { (vec![], parse_pipeline(rest)?) };
                let (body, close) = build(pieces)?;
                let otherwise = match close.as_deref() {
                    Some("end") => vec![],
                    Some("else") => {
                        let (other, close) = build(pieces)?;
                        if close.as_deref() != Some("end") {
                            bail!("template: {kw} without end");
                        }
                        other
                    }
                    _ => bail!("template: {kw} without end"),
                };
                nodes.push(if kw == "range" {
                    Node::Range { vars, over, body, otherwise }
                } else {
                    Node::With(over, body, otherwise)
                });
            }
            "define" | "template" | "block" => bail!("template: {kw} is not supported in --format"),
            _ => nodes.push(Node::Action(parse_pipeline(&action)?)),
        }
    }
    Ok((nodes, None))
}

impl Template {
    /// Parses a template.
    pub fn parse(src: &str) -> Result<Template> {
        let mut pieces = lex(src)?.into_iter().peekable();
        let (nodes, close) = build(&mut pieces)?;
        if let Some(c) = close {
            bail!("template: unexpected {{{{{c}}}}}");
        }
        Ok(Template { nodes })
    }

    /// Renders against `data`.
    pub fn render(&self, data: &Value) -> Result<String> {
        let mut vars = vec![("$".to_string(), data.clone())];
        let mut out = String::new();
        exec(&self.nodes, data, &mut vars, &mut out)?;
        Ok(out)
    }

    /// The simple field actions at its top level (`{{.A.B}}` gives `A.B`),
    /// and the text between, for a table's header; other actions give "".
    pub fn header(&self, titles: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => {
                    let simple = p.cmds.len() == 1 && p.cmds[0].len() == 1;
                    let arg = p.cmds.last().and_then(|c| c.last());
                    if let (true, Some(Arg::Path { var: None, fields })) = (simple, arg) {
                        out.push_str(&titles(&fields.join(".")));
                    } else if let Some(Arg::Path { var: None, fields }) = p.cmds[0].last() {
                        // `json .Labels` and friends: the field's title.
                        out.push_str(&titles(&fields.join(".")));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

type Vars = Vec<(String, Value)>;

fn exec(nodes: &[Node], dot: &Value, vars: &mut Vars, out: &mut String) -> Result<()> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipeline(p, dot, vars)?;
                if p.assign.is_none() {
                    out.push_str(&print_value(&v));
                }
            }
            Node::If(branches, otherwise) => {
                let depth = vars.len();
                let mut done = false;
                for (cond, body) in branches {
                    if truthy(&eval_pipeline(cond, dot, vars)?) {
                        exec(body, dot, vars, out)?;
                        done = true;
                        break;
                    }
                }
                if !done {
                    exec(otherwise, dot, vars, out)?;
                }
                vars.truncate(depth);
            }
            Node::With(p, body, otherwise) => {
                let depth = vars.len();
                let v = eval_pipeline(p, dot, vars)?;
                if truthy(&v) {
                    exec(body, &v, vars, out)?;
                } else {
                    exec(otherwise, dot, vars, out)?;
                }
                vars.truncate(depth);
            }
            Node::Range { vars: names, over, body, otherwise } => {
                let v = eval_pipeline(over, dot, vars)?;
                let items: Vec<(Value, Value)> = match &v {
                    Value::Array(a) => a.iter().enumerate().map(|(i, x)| (Value::from(i as u64), x.clone())).collect(),
                    // Go ranges over a map in key order.
                    Value::Object(m) => {
                        let sorted: BTreeMap<&String, &Value> = m.iter().collect();
                        sorted.into_iter().map(|(k, x)| (Value::String(k.clone()), x.clone())).collect()
                    }
                    Value::Null => vec![],
                    other => bail!("template: range can't iterate over {}", print_value(other)),
                };
                if items.is_empty() {
                    exec(otherwise, dot, vars, out)?;
                }
                for (k, x) in items {
                    let depth = vars.len();
                    match names.as_slice() {
                        [v] => vars.push((v.clone(), x.clone())),
                        [k_name, v] => {
                            vars.push((k_name.clone(), k));
                            vars.push((v.clone(), x.clone()));
                        }
                        _ => {}
                    }
                    exec(body, &x, vars, out)?;
                    vars.truncate(depth);
                }
            }
        }
    }
    Ok(())
}

fn eval_pipeline(p: &Pipeline, dot: &Value, vars: &mut Vars) -> Result<Value> {
    let mut prev: Option<Value> = None;
    for cmd in &p.cmds {
        prev = Some(eval_command(cmd, dot, vars, prev)?);
    }
    let v = prev.unwrap_or(Value::Null);
    if let Some(name) = &p.assign {
        vars.push((name.clone(), v.clone()));
    }
    Ok(v)
}

fn eval_command(cmd: &[Arg], dot: &Value, vars: &mut Vars, piped: Option<Value>) -> Result<Value> {
    match &cmd[0] {
        Arg::Func(name) => {
            let mut args = cmd[1..].iter().map(|a| eval_arg(a, dot, vars)).collect::<Result<Vec<_>>>()?;
            args.extend(piped);
            call(name, &args)
        }
        _ if cmd.len() == 1 && piped.is_none() => eval_arg(&cmd[0], dot, vars),
        other => bail!("template: can't give arguments to {other:?}"),
    }
}

fn eval_arg(a: &Arg, dot: &Value, vars: &mut Vars) -> Result<Value> {
    match a {
        Arg::Literal(v) => Ok(v.clone()),
        Arg::Func(f) => call(f, &[]),
        Arg::Path { var, fields } => {
            let base = match var {
                None => dot.clone(),
                Some(name) => vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| anyhow!("template: undefined variable {name}"))?,
            };
            field(&base, fields)
        }
        Arg::Sub(p, fields) => {
            let v = eval_pipeline(p, dot, vars)?;
            field(&v, fields)
        }
    }
}

fn field(v: &Value, fields: &[String]) -> Result<Value> {
    let mut cur = v.clone();
    for f in fields {
        cur = match &cur {
            Value::Object(m) => m.get(f).cloned().ok_or_else(|| anyhow!("template: can't evaluate field {f}"))?,
            Value::Null => Value::Null,
            _ => bail!("template: can't evaluate field {f} in {}", print_value(&cur)),
        };
    }
    Ok(cur)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Go's default printing of a value.
fn print_value(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(print_value).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            let parts: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}:{}", print_value(v))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

fn s(v: &Value) -> String {
    print_value(v)
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn call(name: &str, args: &[Value]) -> Result<Value> {
    let arity = |n: usize| -> Result<()> {
        if args.len() != n {
            bail!("template: {name} wants {n} argument(s), got {}", args.len());
        }
        Ok(())
    };
    Ok(match name {
        "json" => {
            arity(1)?;
            Value::String(serde_json::to_string(&args[0])?)
        }
        "lower" => {
            arity(1)?;
            Value::String(s(&args[0]).to_lowercase())
        }
        "upper" => {
            arity(1)?;
            Value::String(s(&args[0]).to_uppercase())
        }
        "title" => {
            arity(1)?;
            let t = s(&args[0]);
            let mut out = String::new();
            let mut start = true;
            for c in t.chars() {
                out.extend(if start { c.to_uppercase().collect::<Vec<_>>() } else { vec![c] });
                start = !c.is_alphanumeric();
            }
            Value::String(out)
        }
        "join" => {
            arity(2)?;
            let items: Vec<String> = match &args[0] {
                Value::Array(a) => a.iter().map(s).collect(),
                other => vec![s(other)],
            };
            Value::String(items.join(&s(&args[1])))
        }
        "split" => {
            arity(2)?;
            Value::Array(s(&args[0]).split(&s(&args[1])).map(|x| Value::String(x.into())).collect())
        }
        "pad" => {
            arity(3)?;
            let n = |v: &Value| v.as_u64().unwrap_or(0) as usize;
            Value::String(format!("{}{}{}", " ".repeat(n(&args[1])), s(&args[0]), " ".repeat(n(&args[2]))))
        }
        "truncate" => {
            arity(2)?;
            let n = args[1].as_u64().unwrap_or(0) as usize;
            Value::String(s(&args[0]).chars().take(n).collect())
        }
        "len" => {
            arity(1)?;
            Value::from(match &args[0] {
                Value::Array(a) => a.len(),
                Value::Object(m) => m.len(),
                Value::String(x) => x.len(),
                Value::Null => 0,
                other => bail!("template: len of {}", s(other)),
            } as u64)
        }
        "index" => {
            if args.is_empty() {
                bail!("template: index wants arguments");
            }
            let mut cur = args[0].clone();
            for k in &args[1..] {
                cur = match (&cur, k) {
                    (Value::Object(m), key) => m.get(&s(key)).cloned().unwrap_or(Value::Null),
                    (Value::Array(a), Value::Number(i)) => {
                        let i = i.as_u64().ok_or_else(|| anyhow!("template: bad index {i}"))? as usize;
                        a.get(i).cloned().ok_or_else(|| anyhow!("template: index out of range: {i}"))?
                    }
                    (Value::Null, _) => Value::Null,
                    (other, key) => bail!("template: can't index {} with {}", s(other), s(key)),
                };
            }
            cur
        }
        "slice" => {
            let items = args.first().and_then(|a| a.as_array()).cloned().unwrap_or_default();
            let from = args.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
            let to = args.get(2).and_then(Value::as_u64).map_or(items.len(), |t| t as usize);
            Value::Array(items.get(from..to.min(items.len())).unwrap_or_default().to_vec())
        }
        "print" => Value::String(args.iter().map(s).collect::<Vec<_>>().join(" ")),
        "println" => Value::String(format!("{}\n", args.iter().map(s).collect::<Vec<_>>().join(" "))),
        "printf" => {
            let fmt = s(args.first().ok_or_else(|| anyhow!("template: printf wants a format"))?);
            Value::String(printf(&fmt, &args[1..]))
        }
        "not" => {
            arity(1)?;
            Value::Bool(!truthy(&args[0]))
        }
        "and" => args.iter().find(|a| !truthy(a)).or(args.last()).cloned().unwrap_or(Value::Null),
        "or" => args.iter().find(|a| truthy(a)).or(args.last()).cloned().unwrap_or(Value::Null),
        "eq" => {
            if args.len() < 2 {
                bail!("template: eq wants two arguments");
            }
            Value::Bool(
                args[1..].iter().any(|b| compare(&args[0], b) == Some(std::cmp::Ordering::Equal) || args[0] == *b),
            )
        }
        "ne" => {
            arity(2)?;
            Value::Bool(args[0] != args[1] && compare(&args[0], &args[1]) != Some(std::cmp::Ordering::Equal))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(2)?;
            let o = compare(&args[0], &args[1]).ok_or_else(|| anyhow!("template: {name}: incompatible types"))?;
            Value::Bool(match name {
                "lt" => o.is_lt(),
                "le" => o.is_le(),
                "gt" => o.is_gt(),
                _ => o.is_ge(),
            })
        }
        other => bail!("template: function {other:?} not defined"),
    })
}

/// printf's common verbs: %s, %d, %v, %q, %%.
fn printf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut it = args.iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('q') => out.push_str(&format!("{:?}", it.next().map(s).unwrap_or_default())),
            Some(_) => out.push_str(&it.next().map(s).unwrap_or_else(|| "%!v(MISSING)".into())),
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v).unwrap()
    }

    #[test]
    fn dockers_documented_examples() {
        let c = json!({
            "Name": "/web", "State": {"Status": "running", "Running": true, "Pid": 42},
            "Config": {"Labels": {"com.example.team": "db", "tier": "back"}, "Env": ["A=1", "B=2"]},
            "Mounts": [{"Source": "/srv", "Destination": "/data"}, {"Source": "/tmp", "Destination": "/t"}],
            "NetworkSettings": {"Networks": {"appnet": {"IPAddress": "10.0.0.2"}}, "Ports": {"80/tcp": [{"HostPort": "8080"}]}}
        });
        assert_eq!(r("{{.State.Pid}}", &c), "42");
        assert_eq!(r("{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}", &c), "/srv:/data /tmp:/t ");
        assert_eq!(r(r#"{{index .Config.Labels "com.example.team"}}"#, &c), "db");
        assert_eq!(r("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", &c), "com.example.team=db;tier=back;");
        assert_eq!(r("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", &c), "10.0.0.2");
        assert_eq!(r(r#"{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}"#, &c), "8080");
        assert_eq!(r(r#"{{join .Config.Env ","}}"#, &c), "A=1,B=2");
        assert_eq!(r("{{json .Config.Env}}", &c), r#"["A=1","B=2"]"#);
        assert_eq!(r("{{.Name | upper}} {{lower \"ABC\"}} {{title \"hello world\"}}", &c), "/WEB abc Hello World");
        assert_eq!(r("{{if .State.Running}}up{{else}}down{{end}}", &c), "up");
        assert_eq!(r(r#"{{if eq .State.Status "exited"}}x{{else if eq .State.Status "running"}}r{{end}}"#, &c), "r");
        assert_eq!(r("{{with .Config}}{{len .Env}}{{end}}", &c), "2");
        assert_eq!(r("{{- /* a comment */ -}} {{len .Mounts}}", &c), "2");
        assert_eq!(r("a {{- \" b \" -}} c", &c), "a b c");
        assert_eq!(r(r#"{{printf "%s has %d" .Name .State.Pid}}"#, &c), "/web has 42");
        assert_eq!(r(r#"{{split "a:b" ":"}}"#, &c), "[a b]");
        assert_eq!(r("{{.Config.Labels}}", &c), "map[com.example.team:db tier:back]");
        assert_eq!(r("{{$n := .Name}}{{$n}}", &c), "/web");
        assert_eq!(r("{{range .Nope}}x{{else}}none{{end}}", &json!({"Nope": []})), "none");
        assert_eq!(r("{{and .State.Running .Name}} {{or false \"\" 3}} {{not .State.Running}}", &c), "/web 3 false");
        // Errors a user sees as Go's.
        assert!(Template::parse("{{range .Mounts}}").is_err());
        assert!(Template::parse("{{.Name").is_err());
        assert!(Template::parse("{{nosuch .Name}}").unwrap().render(&c).is_err());
        assert!(Template::parse("{{.Nope}}").unwrap().render(&c).is_err());
        assert!(Template::parse("{{end}}").is_err());
    }
}
