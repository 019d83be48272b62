//! A tenant's SMS account as configured: the provider and its credentials. The clients that
//! sign and send are at the edge (`server::notify::sms`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Aliyun,
    Tencent,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aliyun => "ALIYUN",
            Provider::Tencent => "TENCENT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ALIYUN" => Some(Provider::Aliyun),
            "TENCENT" => Some(Provider::Tencent),
            _ => None,
        }
    }

    /// The provider's public endpoint.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Provider::Aliyun => "https://dysmsapi.aliyuncs.com/",
            Provider::Tencent => "https://sms.tencentcloudapi.com/",
        }
    }
}

/// One tenant's SMS account.
#[derive(Clone)]
pub struct SmsAccount {
    pub provider: Provider,
    pub endpoint: String,
    pub access_key_id: String,
    pub secret: String,
    pub sign_name: String,
    /// Tencent's `SmsSdkAppId`.
    pub sdk_app_id: String,
    /// Tencent's `X-TC-Region`.
    pub region: String,
}

impl std::fmt::Debug for SmsAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsAccount")
            .field("provider", &self.provider)
            .field("endpoint", &self.endpoint)
            .field("secret", &"<redacted>")
            .finish()
    }
}
