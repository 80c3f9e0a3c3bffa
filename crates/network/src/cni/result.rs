//! The CNI 1.0 result.

use super::error::CniError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A result: interfaces, addresses, routes, DNS.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CniResult {
    /// Spec version.
    pub cni_version: String,
    /// Interfaces made.
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    /// Addresses assigned.
    #[serde(default)]
    pub ips: Vec<IpConfig>,
    /// Routes.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// DNS settings.
    #[serde(default)]
    pub dns: Value,
}

/// An interface.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Interface {
    /// Name.
    pub name: String,
    /// MAC address.
    #[serde(default)]
    pub mac: String,
    /// Network namespace path (empty: the host's).
    #[serde(default)]
    pub sandbox: String,
}

/// An address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IpConfig {
    /// CIDR address.
    pub address: String,
    /// Gateway.
    #[serde(default)]
    pub gateway: Option<String>,
    /// Index into `interfaces`.
    #[serde(default)]
    pub interface: Option<usize>,
}

/// A route.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Route {
    /// Destination CIDR.
    pub dst: String,
    /// Gateway.
    #[serde(default)]
    pub gw: Option<String>,
}

/// Parses a plugin's result.
pub fn parse(plugin: &str, raw: Value) -> Result<CniResult, CniError> {
    serde_json::from_value(raw).map_err(|e| CniError::BadOutput { plugin: plugin.into(), why: e.to_string() })
}
