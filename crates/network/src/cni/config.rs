//! Network configuration lists (`.conflist`).

use super::error::CniError;
use serde::Deserialize;
use serde_json::Value;

/// The spec version Hull speaks.
pub const CNI_VERSION: &str = "1.0.0";

/// A network configuration list.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfigList {
    /// Spec version of the list.
    pub cni_version: String,
    /// Network name.
    pub name: String,
    /// Skip CHECK.
    #[serde(default)]
    pub disable_check: bool,
    /// The plugins, in ADD order (each a JSON object with a `type`).
    pub plugins: Vec<Value>,
}

impl NetworkConfigList {
    /// Parses and checks a list.
    pub fn parse(data: &[u8]) -> Result<NetworkConfigList, CniError> {
        let list: NetworkConfigList = serde_json::from_slice(data).map_err(|e| CniError::Config(e.to_string()))?;
        if list.name.is_empty() {
            return Err(CniError::Config("the network has no name".into()));
        }
        if list.plugins.is_empty() {
            return Err(CniError::Config(format!("network {}: no plugins", list.name)));
        }
        for (i, p) in list.plugins.iter().enumerate() {
            if p.get("type").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err(CniError::Config(format!("network {}: plugins[{i}] has no type", list.name)));
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        let l =
            NetworkConfigList::parse(br#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}"#).unwrap();
        assert_eq!((l.name.as_str(), l.plugins.len()), ("n", 1));
        assert!(NetworkConfigList::parse(br#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#).is_err());
        let e = NetworkConfigList::parse(br#"{"cniVersion":"1.0.0","name":"n","plugins":[{"x":1}]}"#).unwrap_err();
        assert!(e.to_string().contains("plugins[0] has no type"));
        assert!(NetworkConfigList::parse(b"{").is_err());
    }
}
