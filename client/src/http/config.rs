//! What an administrator may set about the MES connection.

/// Settings of the HTTP layer, the same for both backends.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Extra trusted root certificate(s), PEM (an in-house CA in front of the MES).
    pub ca_cert_pem: Option<Vec<u8>>,
    /// Time allowed to establish a connection (native only).
    pub connect_timeout_ms: Option<u64>,
}
