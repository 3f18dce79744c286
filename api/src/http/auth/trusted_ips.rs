//! Trusted IP ranges (CIDR) for client secrets and access tokens.
//!
//! Written as Infisical does, `[{"ipAddress": "10.0.0.0/8"}]`; a bare
//! address is a /32 (or /128). The default is everywhere (`0.0.0.0/0` and
//! `::/0`). An IPv4 peer reached over an IPv6 socket (`::ffff:a.b.c.d`) is
//! matched as IPv4.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::ApiError;

/// One trusted range, as the API reads and writes it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustedIp {
    /// An address or a CIDR range.
    pub ip_address: String,
}

pub fn everywhere() -> Vec<IpNet> {
    ["0.0.0.0/0", "::/0"]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// Parses the API form; an empty list is refused (it would lock the
/// credential out everywhere, which is what revoking is for).
pub fn parse(list: &[TrustedIp]) -> Result<Vec<IpNet>, ApiError> {
    if list.is_empty() {
        return Err(ApiError::invalid(
            "a trusted IP list needs at least one range",
        ));
    }
    if list.len() > 64 {
        return Err(ApiError::invalid("at most 64 trusted IP ranges"));
    }
    list.iter()
        .map(|t| {
            let text = t.ip_address.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    ApiError::invalid(format!("{text:?} is not an IP address or CIDR range"))
                })
        })
        .collect()
}

pub fn render(list: &[IpNet]) -> Vec<TrustedIp> {
    list.iter()
        .map(|n| TrustedIp {
            ip_address: n.to_string(),
        })
        .collect()
}

/// Whether `peer` is inside one of `list`. An unknown peer (no socket, as
/// in in-process tests) passes only a list that trusts everywhere.
pub fn allows(list: &[IpNet], peer: Option<IpAddr>) -> bool {
    match peer {
        Some(ip) => {
            let ip = match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
                v4 => v4,
            };
            list.iter().any(|n| n.contains(&ip))
        }
        None => list.iter().any(|n| n.prefix_len() == 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpNet> {
        parse(
            &list
                .iter()
                .map(|s| TrustedIp {
                    ip_address: s.to_string(),
                })
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn ranges_and_addresses() {
        let list = ips(&["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]);
        assert!(allows(&list, Some("10.1.2.3".parse().unwrap())));
        assert!(allows(&list, Some("192.168.1.7".parse().unwrap())));
        assert!(!allows(&list, Some("192.168.1.8".parse().unwrap())));
        assert!(!allows(&list, Some("127.0.0.1".parse().unwrap())));
        assert!(allows(&list, Some("::ffff:10.9.9.9".parse().unwrap())));
        assert!(allows(&list, Some("2001:db8::1".parse().unwrap())));
        assert!(!allows(&list, None));
        assert!(allows(&everywhere(), None));
        assert!(parse(&[]).is_err());
        assert!(
            parse(&[TrustedIp {
                ip_address: "10.0.0.0/33".into()
            }])
            .is_err()
        );
    }
}
