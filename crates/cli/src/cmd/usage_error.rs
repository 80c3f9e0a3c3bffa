//! Command-line mistakes reported as docker reports them: its wording
//! (`unknown flag: --foo`, `"hull run" requires at least 1 argument.`),
//! a pointer to the verb's help, and exit status 125. Help and version
//! requests print and exit 0.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// Prints the error and exits.
pub fn exit(e: clap::Error) -> ! {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        std::process::exit(if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { 125 } else { 0 });
    }
    let verb = verb_of(&e);
    eprintln!("{}", message(&e, &verb));
    eprintln!("See '{verb} --help'.");
    std::process::exit(125)
}

/// The command line up to the verb (`hull network ls`), found by walking
/// the arguments through the command tree.
fn verb_of(_e: &clap::Error) -> String {
    use clap::CommandFactory;
    let mut cmd = crate::Cli::command();
    let mut words = vec!["hull".to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--root" || a == "--run-root" {
            args.next();
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        let Some(sub) = cmd.find_subcommand(&a).cloned() else { break };
        words.push(sub.get_name().to_string());
        cmd = sub;
    }
    words.join(" ")
}

fn context(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn message(e: &clap::Error, verb: &str) -> String {
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
            match arg.strip_prefix('-').filter(|a| !a.starts_with('-')) {
                Some(short) => {
                    let first = short.chars().next().unwrap_or('?');
                    format!("unknown shorthand flag: '{first}' in {arg}")
                }
                None => format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg)),
            }
        }
        ErrorKind::MissingRequiredArgument | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            let n = if verb.ends_with(" exec") { 2 } else { 1 };
            format!("\"{verb}\" requires at least {n} argument{}.", if n == 1 { "" } else { "s" })
        }
        ErrorKind::InvalidSubcommand => {
            let sub = context(e, ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("{verb}: '{sub}' is not a {verb} command.")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = context(e, ContextKind::InvalidArg).unwrap_or_default();
            let arg = arg.split(' ').next().unwrap_or_default().to_string();
            let value = context(e, ContextKind::InvalidValue).unwrap_or_default();
            format!("invalid argument \"{value}\" for \"{arg}\" flag: {}", first_line(e))
        }
        _ => first_line(e),
    }
}

/// clap's own message without its `error: ` prefix and its tips (the
/// source's reason alone for a bad value).
fn first_line(e: &clap::Error) -> String {
    use std::error::Error;
    if let Some(src) = e.source() {
        return src.to_string();
    }
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}
