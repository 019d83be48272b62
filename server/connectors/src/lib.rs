//! The outside services the platform calls, each with the client that signs and sends its
//! real protocol and a faithful local stand-in that checks the same signatures: WeChat Pay
//! and Alipay (`pay`), WeChat login and subscription messages (`wechat`), SMS (`notify`),
//! and the park platforms' webhooks (`forward`).

pub mod forward;
pub mod notify;
pub mod pay;
pub mod wechat;
