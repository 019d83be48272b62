//! Addresses a tenant sets for the platform to call (a payee's WeChat Pay or Alipay gateway,
//! an SMS endpoint, a mini-program's API base): parsed as URLs, never matched as text. In
//! production only `https` to a public host: no user info (`http://localhost@169.254.169.254/`
//! is a request to 169.254.169.254), no loopback, private, link-local, shared or multicast
//! address literal, no `localhost`. Local stand-ins need the platform to allow local targets.
//!
//! Must not: resolve names (a public name that resolves to a private address is stopped
//! only at the network's egress; see docs/SECURITY.md).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Invalid;

/// Checks an outbound URL; returns it as given (trimmed of spaces).
pub fn check(field: &'static str, text: &str, allow_local: bool) -> Result<String, Invalid> {
    let url = url::Url::parse(text.trim()).map_err(|_| Invalid::new(field, "not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(field, "a URL with user information is not allowed"));
    }
    if url.fragment().is_some() || url.query().is_some() {
        return Err(Invalid::new(field, "a base URL without query or fragment"));
    }
    let local = match url.host() {
        None => return Err(Invalid::new(field, "a URL with a host")),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => !public_v4(ip),
        Some(url::Host::Ipv6(ip)) => !public_v6(ip),
    };
    match url.scheme() {
        "https" => {}
        "http" if allow_local && local => {}
        _ => return Err(Invalid::new(field, "an https URL")),
    }
    if local && !allow_local {
        return Err(Invalid::new(field, "a public host (local, private and link-local addresses are not allowed)"));
    }
    Ok(text.trim().to_string())
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80) // link-local
}

/// Whether an address is one a tenant-set URL may not reach in production.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !public_v4(v4),
        IpAddr::V6(v6) => !public_v6(v6),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_public_https_passes_in_production() {
        assert_eq!(check("u", " https://api.mch.weixin.qq.com/ ", false).unwrap(), "https://api.mch.weixin.qq.com/");
        for bad in [
            "http://api.mch.weixin.qq.com",
            "http://localhost@169.254.169.254/latest/meta-data",
            "https://localhost@169.254.169.254/",
            "https://169.254.169.254/",
            "https://127.0.0.1:8443",
            "https://[::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://10.1.2.3/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://localhost/",
            "https://a.localhost./",
            "https://user:pass@example.com/",
            "ftp://example.com/",
            "https://example.com/?x=1",
            "not a url",
            "https://2130706433/",
        ] {
            assert!(check("u", bad, false).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn stand_ins_pass_only_when_the_platform_allows_local_targets() {
        assert_eq!(check("u", "http://127.0.0.1:9090/tencent/", true).unwrap(), "http://127.0.0.1:9090/tencent/");
        assert!(check("u", "http://127.0.0.1:9090/", false).is_err());
        // Allowing local targets does not allow plain http to the internet.
        assert!(check("u", "http://example.com/", true).is_err());
        assert!(check("u", "http://localhost@169.254.169.254/", true).is_err(), "user info is never allowed");
    }
}
