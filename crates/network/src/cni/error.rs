//! CNI errors: the plugin's own words, with its name.

/// What went wrong talking to CNI plugins.
#[derive(Debug, thiserror::Error)]
pub enum CniError {
    /// The network configuration is not valid.
    #[error("CNI config: {0}")]
    Config(String),
    /// No plugin binary of that type.
    #[error("CNI plugin {plugin:?} not found in {dirs}")]
    PluginNotFound {
        /// Plugin type.
        plugin: String,
        /// Where it was looked for.
        dirs: String,
    },
    /// The plugin could not be run.
    #[error("CNI plugin {plugin}: {source}")]
    Exec {
        /// Plugin type.
        plugin: String,
        /// Why.
        source: std::io::Error,
    },
    /// The plugin reported an error (its code, message and details verbatim).
    #[error("CNI plugin {plugin} failed ({command}): {msg}{}", if details.is_empty() { String::new() } else { format!(": {details}") })]
    Plugin {
        /// Plugin type.
        plugin: String,
        /// ADD, DEL, CHECK or VERSION.
        command: String,
        /// The spec's error code.
        code: u64,
        /// Its message.
        msg: String,
        /// Its details.
        details: String,
    },
    /// The plugin's output is not what the spec says.
    #[error("CNI plugin {plugin}: unreadable output: {why}")]
    BadOutput {
        /// Plugin type.
        plugin: String,
        /// What is wrong with it.
        why: String,
    },
    /// A cache file operation.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// To what.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Several plugins failed (teardown goes on past each).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Several(Vec<CniError>),
}
