//! The outside services the platform calls, each with the client that signs and sends its
//! real protocol and a faithful local stand-in that checks the same signatures: WeChat Pay
//! and Alipay (`pay`), WeChat login and subscription messages (`wechat`), SMS (`notify`),
//! the park platforms' webhooks (`forward`) and e-mail for scheduled reports (`mail`).

pub mod forward;
pub mod mail;
pub mod notify;
pub mod pay;
pub mod wechat;
