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

/// A park platform's own MQTT broker (forwarding by MQTT, issue 19): `mqtts://host[:8883]/prefix`
/// — TLS always, plain `mqtt://` only to a local stand-in when the platform allows local
/// targets. The path is the topic prefix events are published under. Credentials are kept
/// apart (never in the URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Without leading or trailing `/`; never empty, no wildcard.
    pub prefix: String,
}

/// Checks a broker URL as [`check`] checks an HTTPS one.
pub fn check_broker(field: &'static str, text: &str, allow_local: bool) -> Result<BrokerUrl, Invalid> {
    let text = text.trim();
    if text.contains(['#', '+']) {
        return Err(Invalid::new(field, "a topic prefix without the wildcards + and #"));
    }
    let (scheme, rest) = text.split_once("://").ok_or_else(|| Invalid::new(field, "not a URL"))?;
    let scheme = scheme.to_ascii_lowercase();
    // `mqtts` is not a scheme the URL standard knows, so its host would stay opaque text
    // (`127.0.0.1`, `2130706433` not read as addresses): parse it as https to read the host
    // as a browser (and a resolver) would.
    let url = url::Url::parse(&format!("https://{rest}")).map_err(|_| Invalid::new(field, "not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(field, "a URL without user information (the credentials are separate fields)"));
    }
    if url.fragment().is_some() || url.query().is_some() {
        return Err(Invalid::new(field, "a broker URL without query or fragment"));
    }
    let (host, local) = match url.host() {
        None => return Err(Invalid::new(field, "a URL with a host")),
        Some(url::Host::Domain(d)) => {
            let l = d.trim_end_matches('.').to_ascii_lowercase();
            let local = l == "localhost" || l.ends_with(".localhost");
            (d.to_string(), local)
        }
        Some(url::Host::Ipv4(ip)) => (ip.to_string(), !public_v4(ip)),
        Some(url::Host::Ipv6(ip)) => (ip.to_string(), !public_v6(ip)),
    };
    let tls = match scheme.as_str() {
        "mqtts" => true,
        "mqtt" if allow_local && local => false,
        _ => return Err(Invalid::new(field, "an mqtts:// broker URL")),
    };
    if local && !allow_local {
        return Err(Invalid::new(field, "a public host (local, private and link-local addresses are not allowed)"));
    }
    let prefix = url.path().trim_matches('/').to_string();
    let decoded = percent_decoded(&prefix);
    if decoded.is_empty() || decoded.len() > 200 || decoded.contains(['+', '#', '\0']) || decoded.split('/').any(str::is_empty) {
        return Err(Invalid::new(field, "a topic prefix as the path (mqtts://host/park/energy), without wildcards or empty levels"));
    }
    // https drops its default port 443 from the URL: read the port as written.
    let port = match url.port() {
        Some(p) => p,
        None if rest.split('/').next().is_some_and(|authority| authority.ends_with(":443")) => 443,
        None => {
            if tls {
                8883
            } else {
                1883
            }
        }
    };
    Ok(BrokerUrl { tls, host, port, prefix: decoded })
}

fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = path.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn a_park_broker_is_mqtts_to_a_public_host_with_a_topic_prefix() {
        let b = check_broker("url", "mqtts://mqtt.park.example.cn/park/energy/", false).unwrap();
        assert_eq!(b, BrokerUrl { tls: true, host: "mqtt.park.example.cn".into(), port: 8883, prefix: "park/energy".into() });
        assert_eq!(check_broker("url", "mqtts://1.2.3.4:9883/p", false).unwrap().port, 9883);
        assert_eq!(check_broker("url", "MQTTS://1.2.3.4:443/p", false).unwrap().port, 443);
        for bad in [
            "mqtt://mqtt.park.example.cn/p",
            "mqtts://mqtt.park.example.cn",
            "mqtts://mqtt.park.example.cn/",
            "mqtts://mqtt.park.example.cn/a/#",
            "mqtts://mqtt.park.example.cn/a/%2B",
            "mqtts://mqtt.park.example.cn/a//b",
            "mqtts://u:p@mqtt.park.example.cn/p",
            "mqtts://mqtt.park.example.cn/p?x=1",
            "mqtts://127.0.0.1/p",
            "mqtts://10.0.0.1/p",
            "https://mqtt.park.example.cn/p",
            "mqtts://2130706433/p",
            "mqtts://[::1]/p",
            "mqtts://localhost/p",
        ] {
            assert!(check_broker("url", bad, false).is_err(), "{bad} passed");
        }
        let local = check_broker("url", "mqtt://127.0.0.1:18830/park", true).unwrap();
        assert_eq!((local.tls, local.port, local.prefix.as_str()), (false, 18830, "park"));
        assert!(check_broker("url", "mqtt://example.com/park", true).is_err(), "plain MQTT only to a local stand-in");
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
