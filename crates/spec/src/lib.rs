//! The OCI runtime-spec (1.1) configuration and state, as plain serde structs.
//!
//! Fields are public and optional exactly where the spec makes them optional,
//! so that the runtime, the engine and the image layer can read and build
//! specs without getters. Unknown fields are ignored, as the spec requires.
#![warn(missing_docs)]

mod config;
mod state;
pub mod time;

pub use config::*;
pub use state::*;

use std::path::{Path, PathBuf};

/// Reading or parsing a config.json failed.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The JSON is malformed or does not match the spec's schema.
    #[error("parse {path}: {field}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Dotted path of the offending field (`.` for the document).
        field: String,
        /// The parser's message.
        message: String,
    },
}

impl Spec {
    /// Loads a config.json, naming the offending field on a schema error.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let data = std::fs::read(path).map_err(|source| SpecError::Read { path: path.to_owned(), source })?;
        Self::from_slice(&data).map_err(|(field, message)| SpecError::Parse { path: path.to_owned(), field, message })
    }

    /// Parses a config from bytes; on error returns (field path, message).
    pub fn from_slice(data: &[u8]) -> Result<Spec, (String, String)> {
        let de = &mut serde_json::Deserializer::from_slice(data);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            (field, e.into_inner().to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_and_names_bad_field() {
        let ok = br#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/"}}"#;
        let spec = Spec::from_slice(ok).unwrap();
        assert_eq!(spec.root.unwrap().path, PathBuf::from("rootfs"));
        let bad = br#"{"ociVersion":"1.0.2","linux":{"namespaces":[{"type":"pid"},{"type":"bogus"}]}}"#;
        let (field, msg) = Spec::from_slice(bad).unwrap_err();
        assert_eq!(field, "linux.namespaces[1].type");
        assert!(msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn default_spec_round_trips() {
        let spec = Spec::example(None);
        let text = serde_json::to_vec(&spec).unwrap();
        let back = Spec::from_slice(&text).unwrap();
        assert_eq!(back.process.unwrap().args.unwrap(), vec!["sh".to_string()]);
    }
}
